using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Security.Cryptography.X509Certificates;
using FleetSim.Protocol;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// The emulator past one process (issue 11 item 5): `fleetsim hub --partitions N` and a run's embedded partitioned hub,
/// with real partition processes on 127.0.0.(10+k), real MQTT/TLS and HTTPS. Every process a test starts is stopped
/// by it, also when it fails.
/// </summary>
public sealed class PartitionedHubTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-partitions-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The run's temporary folders (the embedded hub's partition folders among them) go under this test's folder.</summary>
    private Dictionary<string, string> TempHere => new() { ["TMPDIR"] = _dir };

    private static JsonNode Report(string outDir) => JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!;

    private static long L(JsonNode node, string name) => node[name]!.GetValue<long>();

    private static void AssertEveryMessageAccountedFor(JsonNode report, int devices, string output)
    {
        var telemetry = report["telemetry"]!;
        Assert.True(L(telemetry, "sent") > 0, output); // how many depends on how fast a busy machine connects them
        Assert.Equal(L(telemetry, "sent"), L(telemetry, "acked"));
        Assert.Equal(L(telemetry, "acked"), L(telemetry, "ingested"));
        Assert.Equal(0, L(telemetry, "lost"));
        Assert.Equal(0, L(telemetry, "duplicated"));
        Assert.Equal(devices, L(report["latency"]!["connect"]!, "count"));
    }

    [Fact]
    public async Task A_run_against_a_partitioned_hub_connects_every_device_to_its_own_partition_over_mqtt_and_websockets_and_accounts_for_every_message()
    {
        const string yaml = """
            name: partitioned
            deviceGroups:
              - {name: sensors, count: 180, idPrefix: part-, telemetry: {interval: 1s}}
              - {name: websockets, count: 20, idPrefix: part-ws-, transport: mqtt-ws, telemetry: {interval: 1s}}
            load:
              - ramp: {to: 200, over: 3s}
            duration: 8s
            """;
        var scenario = Path.Combine(_dir, "partitioned.yaml");
        await File.WriteAllTextAsync(scenario, yaml);
        var groups = ScenarioLoader.LoadFromText(yaml, scenario).Scenario!.DeviceGroups;
        var ids = groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(g.DeviceId)).ToList();
        Assert.Equal(200, ids.Count);
        var stateFile = Path.Combine(_dir, "state.json");
        using var hub = StartHub("--partitions", "2", "--mqtt-port", "0", "--https-port", "0", "--state-file", stateFile, "--data-dir", Path.Combine(_dir, "hub"));
        List<int> partitions = [];
        try
        {
            await WaitForFileAsync(stateFile, hub);
            partitions = ChildProcesses(hub.Id);
            Assert.Equal(2, partitions.Count);
            var state = JsonNode.Parse(await File.ReadAllTextAsync(stateFile))!;
            var listed = state["partitions"]!.AsArray();
            Assert.Equal(["127.0.0.10", "127.0.0.11"], listed.Select(p => p!["mqttHost"]!.GetValue<string>()));

            var outDir = Path.Combine(_dir, "out");
            var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir, "run", scenario, "--hub-state", stateFile, "--out", outDir, "--quiet", "--keep-devices");
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Contains("hub in 2 partitions", result.Stdout);
            AssertEveryMessageAccountedFor(Report(outDir), 200, result.All);

            // Each partition registered (kept: --keep-devices) and accepted exactly the devices it owns: every device went to its own partition.
            var connection = ServiceConnectionString.Parse(state["serviceConnectionString"]!.GetValue<string>());
            using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(state["caCertificatePath"]!.GetValue<string>()));
            long ingested = 0;
            for (var k = 0; k < 2; k++)
            {
                var p = listed[k]!;
                using var direct = new HubServiceClient(connection, new HubEndpoint(new UriBuilder("https", p["mqttHost"]!.GetValue<string>(), p["httpsPort"]!.GetValue<int>()).Uri, ca));
                var stats = await direct.GetJsonAsync("fleetsim/stats", CancellationToken.None);
                var owned = ids.Count(id => HubPartitions.PartitionOf(id, 2) == k);
                Assert.InRange(owned, 1, 199);
                Assert.Equal(owned, L(stats, "devicesRegistered"));
                Assert.Equal(owned, L(stats, "connectsAccepted"));
                ingested += L(stats, "ingested");
            }

            Assert.Equal(L(Report(outDir)["telemetry"]!, "ingested"), ingested);
        }
        finally
        {
            if (!hub.HasExited)
                hub.Kill(); // SIGKILL: the partitions must notice (--exit-with) and exit by themselves
        }

        await WaitUntilAsync(() => partitions.All(Exited), "the partitions exited with their hub", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_cluster_run_over_an_embedded_hub_of_two_partitions_accounts_for_every_message()
    {
        var scenario = Path.Combine(_dir, "cluster.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: cluster-partitions
            hub: {embedded: {partitions: 2}}
            deviceGroups:
              - {name: sensors, count: 120, idPrefix: cp-, telemetry: {interval: 2s}}
            load:
              - ramp: {to: 120, over: 3s}
            duration: 12s
            """);
        var outDir = Path.Combine(_dir, "cluster");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(4), _dir, ["run", scenario, "--nodes", "2", "--out", outDir, "--quiet"], TempHere);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("hub in 2 partitions: devices connect to 127.0.0.10:", result.Stdout);
        var report = Report(outDir);
        AssertEveryMessageAccountedFor(report, 120, result.All);
        Assert.Equal("embedded", report["run"]!["hubKind"]!.GetValue<string>());
        Assert.Equal(2, report["cluster"]!["nodes"]!.AsArray().Count);
        await AssertNoPartitionLeftAsync();
    }

    [Fact]
    public async Task A_run_applies_its_faults_to_every_partition_of_its_embedded_hub()
    {
        var scenario = Path.Combine(_dir, "faults.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: partition-faults
            hub:
              embedded:
                partitions: 2
                faults: [{at: 3s, dropConnections: {fraction: 1}}]
            deviceGroups:
              - {name: sensors, count: 40, idPrefix: pf-, telemetry: {interval: 500ms}}
            duration: 7s
            """);
        var outDir = Path.Combine(_dir, "faults");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir, ["run", scenario, "--out", outDir, "--quiet"], TempHere);

        Assert.True(result.ExitCode == 0, result.All);
        var report = Report(outDir);
        var faultNode = Assert.Single(report["faults"]!.AsArray())!;
        var fault = faultNode.ToJsonString();
        // Each partition dropped its connected devices and the front summed the counts: every device dropped reconnected
        // (on a loaded machine some devices may not have connected yet when the fault fires, so the count is read back).
        var dropped = System.Text.RegularExpressions.Regex.Match(fault, @"dropped (\d+) connections");
        Assert.True(dropped.Success, fault);
        var count = int.Parse(dropped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(count, 2, 40);
        var reconnects = L(report["latency"]!["reconnect"]!, "count");
        if (ReportFacts.ConnectedWhenApplied(report, faultNode) == 40)
            Assert.Equal(count, reconnects);
        else // a connection the hub had accepted but the device had not finished setting up: a connect it retries, not a reconnect
            Assert.InRange(reconnects, 0, count);
        var telemetry = report["telemetry"]!;
        Assert.Equal(L(telemetry, "acked"), L(telemetry, "ingested"));
        Assert.Equal(0, L(telemetry, "lost"));
        await AssertNoPartitionLeftAsync();
    }

    [Fact]
    public async Task A_partition_that_dies_mid_run_is_named_in_the_reports_warnings()
    {
        var scenario = Path.Combine(_dir, "dies.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: partition-dies
            hub:
              embedded:
                partitions: 2
            deviceGroups:
              - {name: sensors, count: 20, idPrefix: pd-, telemetry: {interval: 500ms}}
            duration: 8s
            """);
        var outDir = Path.Combine(_dir, "dies");
        var run = Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir, ["run", scenario, "--out", outDir], TempHere);

        // Once both partitions listen (each has written its state file), partition 1 dies as a crash would: SIGKILL.
        await WaitUntilAsync(() => run.IsCompleted || PartitionStateFiles() == 2, "both partitions listen", TimeSpan.FromSeconds(90));
        Assert.False(run.IsCompleted, "the run ended before its partitions listened");
        using (var victim = Process.GetProcessById(PartitionProcess(1)))
            victim.Kill();
        var result = await run;

        var warnings = Report(outDir)["environment"]!["warnings"]!.AsArray().Select(static w => w!.GetValue<string>()).ToList();
        Assert.Contains(warnings, w => w.StartsWith("hub partition 1 exited during the run (exit code 137", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.StartsWith("hub partition 0", StringComparison.Ordinal));
        Assert.Contains("warning: hub partition 1 exited during the run", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.All, StringComparison.Ordinal);
        await AssertNoPartitionLeftAsync();
    }

    private int PartitionStateFiles()
    {
        try
        {
            return Directory.EnumerateFiles(_dir, "partition-state.json", SearchOption.AllDirectories).Count();
        }
        catch (IOException)
        {
            return 0; // a folder went away while listing: look again
        }
    }

    private int PartitionProcess(int index)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", "--", $"hub-partition --index {index} .*{_dir}"]) { RedirectStandardOutput = true })!;
        var text = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return int.Parse(Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)), CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("0", "--partitions: expected a whole number from 1 to 64; found 0")]
    [InlineData("65", "--partitions: expected a whole number from 1 to 64; found 65")]
    [InlineData("two", "two")]
    public async Task A_bad_partition_count_exits_2_with_a_clear_message(string value, string expected)
    {
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "hub", "--partitions", value, "--mqtt-port", "0", "--https-port", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Partitions_on_an_address_other_machines_reach_are_refused()
    {
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "hub", "--partitions", "2", "--bind", "0.0.0.0", "--mqtt-port", "0", "--https-port", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("the partitions listen on 127.0.0.x", result.Stderr);
    }

    [Fact]
    public async Task Validate_says_how_many_partitions_the_embedded_hub_gets()
    {
        var scenario = Path.Combine(_dir, "big.yaml");
        await File.WriteAllTextAsync(scenario, """
            name: big
            deviceGroups:
              - {name: sensors, count: 20000, idPrefix: big-}
            duration: 1m
            """);

        var auto = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", scenario);
        var two = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", scenario, "--set", "hub={embedded: {partitions: 2}}");
        var small = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "validate", scenario, "--scale", "0.01");

        Assert.True(auto.ExitCode == 0, auto.All);
        Assert.Contains("embedded hub: 3 partition processes (127.0.0.10 to 127.0.0.12), about 6,667 devices each", auto.Stdout);
        Assert.Contains("embedded hub: 2 partition processes", two.Stdout);
        Assert.DoesNotContain("partition", small.Stdout); // 200 devices: the hub stays in the run's process
    }

    [Fact]
    public void Hub_wide_quotas_are_split_evenly_over_the_partitions()
    {
        var quotas = new Hub.PartitionedHubOptions(4) { Quotas = new() { ConnectsPerSecond = 100, TwinOperationsPerSecond = 10 } }.PartitionQuotas();

        Assert.Equal(25, quotas.ConnectsPerSecond);
        Assert.Equal(2.5, quotas.TwinOperationsPerSecond);
        Assert.Null(quotas.TelemetryPerSecond); // unlimited stays unlimited
    }

    [Fact]
    public async Task A_state_file_with_partitions_gives_the_run_each_partition_and_a_bad_entry_is_named()
    {
        var ca = Path.Combine(_dir, "ca.pem");
        using (var certificates = HubEmulator.Certificates.EmulatorCertificates.Create("localhost", TimeProvider.System))
            await File.WriteAllTextAsync(ca, certificates.CaPem);
        string State(string partitions) => $$"""
            {"serviceConnectionString": "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V5",
             "caCertificatePath": {{System.Text.Json.JsonSerializer.Serialize(ca)}}, "hostName": "localhost", "mqttPort": 8883, "httpsPort": 443,
             "partitions": {{partitions}}}
            """;
        var good = Path.Combine(_dir, "good.json");
        await File.WriteAllTextAsync(good, State("""[{"mqttHost": "127.0.0.10", "mqttPort": 1883, "httpsPort": 1443}, {"mqttHost": "127.0.0.11", "mqttPort": 1883, "httpsPort": 1443}]"""));
        var bad = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(bad, State("""[{"mqttHost": "127.0.0.10", "mqttPort": 1883, "httpsPort": 1443}, {"mqttHost": "nowhere", "mqttPort": 0}]"""));

        Assert.True(Commands.HubStateFile.TryRead(good, out var hub, out var error), error);
        Assert.Equal([new("127.0.0.10", 1883, 1443), new Scenarios.Running.PartitionEndpoint("127.0.0.11", 1883, 1443)], hub.Partitions);
        Assert.False(Commands.HubStateFile.TryRead(bad, out _, out var badError));
        Assert.Contains("partitions[1]", badError, StringComparison.Ordinal);
    }

    private Process StartHub(params string[] args)
    {
        var process = Process.Start(Fleetsim.StartInfo(_dir, ["hub", .. args]))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task WaitForFileAsync(string path, Process owner) =>
        Poll.UntilAsync(() => File.Exists(path), "state file", TimeSpan.FromSeconds(90),
            () => owner.HasExited ? $"the hub exited with code {owner.ExitCode}" : null);

    private static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan limit) => Poll.UntilAsync(condition, what, limit);

    private static bool Exited(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].TrimStart() is ['Z' or 'X', ..];
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static List<int> ChildProcesses(int parent)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-P", parent.ToString(CultureInfo.InvariantCulture), "-f", "hub-partition"]) { RedirectStandardOutput = true })!;
        var text = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    }

    /// <summary>A run stops the partitions it started before it exits (their folders are under this test's, see <see cref="TempHere"/>).</summary>
    /// <summary>
    /// The run's partitions are gone. A partition that did not stop within the run's grace is killed, and a killed process
    /// takes a moment to disappear on a busy machine: polled with a deadline rather than looked at once.
    /// </summary>
    private async Task AssertNoPartitionLeftAsync()
    {
        var found = "";
        await Poll.UntilAsync(() =>
        {
            using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", "--", "hub-partition .*" + _dir]) { RedirectStandardOutput = true })!;
            found = pgrep.StandardOutput.ReadToEnd().Trim();
            pgrep.WaitForExit();
            return found.Length == 0;
        }, "partition processes gone", TimeSpan.FromSeconds(30), detail: () => "still running: " + found);
    }
}
