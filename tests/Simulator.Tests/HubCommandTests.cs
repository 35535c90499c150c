using System.Diagnostics;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Simulator.Tests;

public sealed class HubCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-hub-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Starts `fleetsim hub` on free ports and waits for its state file.</summary>
    private async Task<(Process Hub, Task<string> Stdout, Task<string> Stderr)> StartHubAsync(string stateFile)
    {
        var process = Process.Start(Fleetsim.StartInfo(Environment.CurrentDirectory, ["hub", "--mqtt-port", "0", "--https-port", "0", "--state-file", stateFile, "--data-dir", _dir]))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await Poll.UntilAsync(() => File.Exists(stateFile), "state file", TimeSpan.FromSeconds(60),
            () => process.HasExited ? $"the hub exited with code {process.ExitCode}" : null);

        return (process, stdout, stderr);
    }

    /// <summary>SIGTERM (what Ctrl+C in a terminal or a process manager sends), then waits for the exit.</summary>
    private static async Task StopHubAsync(Process hub)
    {
        if (!hub.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", hub.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await hub.WaitForExitAsync(cts.Token);
    }

    [Fact]
    public async Task Hub_writes_its_state_file_once_listening_and_exits_cleanly_on_sigterm()
    {
        var stateFile = Path.Combine(_dir, "state.json");
        var (process, stdout, stderr) = await StartHubAsync(stateFile);
        using var owned = process;
        try
        {
            var state = JsonNode.Parse(await File.ReadAllTextAsync(stateFile))!;
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stateFile)); // it holds the service key
            var connection = ServiceConnectionString.Parse(state["serviceConnectionString"]!.GetValue<string>());
            Assert.Equal("localhost", state["hostName"]!.GetValue<string>());
            Assert.Equal("localhost", connection.HostName);
            Assert.True(File.Exists(state["caCertificatePath"]!.GetValue<string>()));
            var mqttPort = state["mqttPort"]!.GetValue<int>();
            Assert.InRange(mqttPort, 1, 65535);
            Assert.InRange(state["httpsPort"]!.GetValue<int>(), 1, 65535);

            using var probe = new System.Net.Sockets.TcpClient();
            await probe.ConnectAsync("127.0.0.1", mqttPort); // it really listens
        }
        finally
        {
            await StopHubAsync(process);
        }

        Assert.Equal(0, process.ExitCode);
        var printed = await stdout;
        Assert.Contains("SharedAccessKey=***", printed);
        Assert.DoesNotContain("   at ", await stderr);
    }

    [Fact]
    public async Task Run_targets_a_hub_in_another_process_through_its_state_file()
    {
        var stateFile = Path.Combine(_dir, "state.json");
        var (hub, _, _) = await StartHubAsync(stateFile);
        using var owned = hub;
        try
        {
            var scenario = Path.Combine(_dir, "two-process.yaml");
            await File.WriteAllTextAsync(scenario, """
                name: two-process
                hub:
                  embedded:
                    faults: [{at: 1s, dropConnections: {fraction: 1}}]
                deviceGroups:
                  - {name: remote, count: 5, idPrefix: remote-, telemetry: {interval: 500ms}, transport: mqtt-ws}
                  - {name: tcp, count: 5, idPrefix: tcp-, telemetry: {interval: 500ms}}
                duration: 3s
                """);
            var outDir = Path.Combine(_dir, "out");
            var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, "run", scenario, "--hub-state", stateFile, "--out", outDir, "--quiet");

            Assert.True(result.ExitCode == 0, result.All);
            var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
            Assert.Equal("external", report["run"]!["hubKind"]!.GetValue<string>());
            Assert.Equal(10, report["latency"]!["connect"]!["count"]!.GetValue<long>());
            var telemetry = report["telemetry"]!;
            Assert.True(telemetry["sent"]!.GetValue<long>() >= 10, telemetry.ToJsonString()); // every device sent (how many each depends on how busy the machine is)
            // The hub in the other process answers /fleetsim/stats, so ingest accounting still works.
            Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());
            // The embedded-hub settings of the scenario cannot reach a hub in another process: said, not silently dropped.
            Assert.Empty(report["faults"]!.AsArray());
            Assert.Contains(report["environment"]!["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("hub.embedded settings", StringComparison.Ordinal));
            Assert.Contains("warning: the scenario's hub.embedded settings", result.Stdout);
        }
        finally
        {
            await StopHubAsync(hub);
        }
    }
    [Fact]
    public async Task Runs_sharing_a_standing_hub_each_account_for_exactly_their_own_messages()
    {
        var stateFile = Path.Combine(_dir, "state.json");
        var (hub, _, _) = await StartHubAsync(stateFile);
        using var owned = hub;
        try
        {
            string Scenario(string prefix)
            {
                var path = Path.Combine(_dir, prefix + ".yaml");
                File.WriteAllText(path, $$"""
                    name: shared-{{prefix}}
                    deviceGroups:
                      - {name: g, count: 4, idPrefix: {{prefix}}-, telemetry: {interval: 250ms} }
                    duration: 2s
                    thresholds:
                      telemetry: ["lost == 0", "duplicated == 0"]
                    """);
                return path;
            }

            async Task<JsonNode> RunAsync(string scenario, string outName)
            {
                var outDir = Path.Combine(_dir, outName);
                var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(4), _dir, "run", scenario, "--hub-state", stateFile, "--out", outDir, "--quiet");
                Assert.True(result.ExitCode == 0, result.All);
                return JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
            }

            var a = Scenario("a");
            var b = Scenario("b");
            // One after the other with the same device ids (the second run's sequences start at 1 again), then two at once.
            var reports = new List<JsonNode> { await RunAsync(a, "first"), await RunAsync(a, "second") };
            reports.AddRange(await Task.WhenAll(RunAsync(a, "third"), RunAsync(b, "concurrent")));

            foreach (var report in reports)
            {
                var t = report["telemetry"]!;
                var sent = t["sent"]!.GetValue<long>();
                Assert.True(sent >= 4, $"only {sent} sent"); // at least one per device (a loaded machine may connect late)
                Assert.Equal((sent, sent, 0L, 0L), (t["acked"]!.GetValue<long>(), t["ingested"]!.GetValue<long>(), t["lost"]!.GetValue<long>(), t["duplicated"]!.GetValue<long>()));
            }

            Assert.Equal(4, reports.Select(r => r["run"]!["id"]!.GetValue<string>()).Distinct().Count());
        }
        finally
        {
            await StopHubAsync(hub);
        }
    }


    [Theory]
    [InlineData("missing.json", "--hub-state: cannot read")]
    [InlineData("garbage.json", "is not a fleetsim hub state file")]
    public async Task A_bad_hub_state_file_is_a_clear_error(string file, string message)
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "garbage.json"), "{\"hello\": 1}");
        var scenario = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", scenario, "--hub-state", Path.Combine(_dir, file));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Hub_and_hub_state_together_are_refused()
    {
        var scenario = Path.Combine(Fleetsim.RepoRoot, "scenarios", "quickstart.yaml");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", scenario, "--hub", "HostName=h;SharedAccessKeyName=s;SharedAccessKey=a2V5", "--hub-state", "x.json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--hub and --hub-state cannot be used together", result.Stderr);
    }
}
