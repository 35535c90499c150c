using System.Text.Json.Nodes;
using static FleetSim.Simulator.Tests.Deploy.DeployFiles;

namespace FleetSim.Simulator.Tests.Deploy;

/// <summary>
/// The command lines of docker-compose.yml and deploy/kubernetes run as processes on loopback: the same commands, with
/// only what exists in a container alone replaced (service names and wildcard addresses by 127.0.0.1, fixed ports by free
/// ones, /state and /reports by temporary folders) and the scenario run small. Every process is stopped by the test.
/// </summary>
public sealed class DeployRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-deploy-").FullName;
    private readonly List<ChildProcess> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes)
            p.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ChildProcess Start(string name, IEnumerable<string> args)
    {
        var process = ChildProcess.Start(name, Fleetsim.RepoRoot, args); // the image's working directory has scenarios/ too
        _processes.Add(process);
        return process;
    }

    /// <summary>The hub's command with its container paths and ports made local; waits for its state file.</summary>
    private async Task<string> StartHubAsync(string[] hubArgs)
    {
        var state = Path.Combine(_dir, "state");
        var hub = Start("hub", WithValues(hubArgs, ("--host-name", "localhost"), ("--bind", "127.0.0.1"), ("--mqtt-port", "0"), ("--https-port", "0"),
            ("--state-file", Path.Combine(state, "hub-state.json")), ("--data-dir", state)));
        await hub.WaitUntilAsync(() => File.Exists(Path.Combine(state, "hub-state.json")), "state file", TimeSpan.FromSeconds(90));
        return Path.Combine(state, "hub-state.json");
    }

    [Fact]
    public async Task The_compose_services_run_a_fleet_over_two_workers()
    {
        var variables = new Dictionary<string, string> { ["WORKERS"] = "2" };
        var stateFile = await StartHubAsync(ComposeCommand("hub", variables));
        var port = Ports.Free();
        var outDir = Path.Combine(_dir, "reports");
        string[] coordinatorArgs = [.. WithValues(ComposeCommand("coordinator", variables), ("--hub-state", stateFile), ("--cluster-bind", "127.0.0.1"),
            ("--cluster-host", "127.0.0.1"), ("--cluster-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("--out", outDir)),
            "--scale", "0.02", "--duration", "15s"];
        var coordinator = Start("coordinator", coordinatorArgs);
        await coordinator.WaitUntilAsync(() => coordinator.Output.Contains("waiting for 2 workers", StringComparison.Ordinal), "waiting line", TimeSpan.FromMinutes(2));
        var workerArgs = WithValues(ComposeCommand("worker", variables), ("--seed", $"127.0.0.1:{port}"), ("--bind", "127.0.0.1"), ("--port", "0"));
        var workers = new[] { Start("worker 1", workerArgs), Start("worker 2", workerArgs) };

        var exit = await coordinator.WaitForExitAsync(TimeSpan.FromMinutes(4));

        Assert.True(exit == 0, coordinator.Output);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        Assert.Equal("passed", report["run"]!["verdict"]!.GetValue<string>());
        var telemetry = report["telemetry"]!;
        Assert.True(telemetry["sent"]!.GetValue<long>() > 0, coordinator.Output);
        Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["acked"]!.GetValue<long>());
        Assert.Equal(telemetry["acked"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());
        Assert.Equal(0, telemetry["lost"]!.GetValue<long>());
        var nodes = report["cluster"]!["nodes"]!.AsArray();
        Assert.Equal(2, nodes.Count);
        Assert.All(nodes, n => Assert.True(n!["devicesPeak"]!.GetValue<long>() > 0, "a worker hosted no device"));
        Assert.Equal(report["latency"]!["connect"]!["count"]!.GetValue<long>(), nodes.Sum(static n => n!["connects"]!.GetValue<long>()));
        // The workers leave by themselves once the run is over (in compose they then exit and stay down).
        foreach (var worker in workers)
            Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task The_kubernetes_coordinator_serves_its_seed_nodes_to_bootstrapping_workers()
    {
        var job = KubernetesObject("Job", "fleetsim-run");
        var stateFile = await StartHubAsync(Args(Container(job, "hub")));
        var port = Ports.Free();
        var management = Ports.Free();
        var coordinatorArgs = WithValues(Args(Container(job, "coordinator"), podIp: "127.0.0.1"), ("--hub-state", stateFile), ("--cluster-bind", "127.0.0.1"),
            ("--cluster-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("--management-port", management.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("--out", Path.Combine(_dir, "reports")));
        var coordinator = Start("coordinator", [.. coordinatorArgs, "--scale", "0.01"]);
        await coordinator.WaitUntilAsync(() => coordinator.Output.Contains("waiting for 10 workers", StringComparison.Ordinal), "waiting line", TimeSpan.FromMinutes(2));

        // What a worker's cluster bootstrap asks each contact point (the pods the Kubernetes API lists).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        JsonArray? nodes = null;
        await Poll.UntilAsync(async () =>
        {
            try
            {
                var answer = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{management}/bootstrap/seed-nodes"))!.AsObject();
                nodes = (answer["Nodes"] ?? answer["nodes"])?.AsArray();
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            return nodes is { Count: > 0 };
        }, "seed nodes from the management endpoint", TimeSpan.FromSeconds(60), detail: () => coordinator.Output);

        // One member: the coordinator itself, at the address workers then join (its pod IP and cluster port).
        var member = Assert.Single(nodes!)!.ToJsonString();
        Assert.Contains("127.0.0.1", member);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), member);
        Assert.Contains("coordinator", member);

        // Stopped before any worker came (as kubectl delete job does): it still writes its report and says why it ended.
        coordinator.Terminate();
        Assert.Equal(3, await coordinator.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.True(File.Exists(Path.Combine(_dir, "reports", "report.json")), coordinator.Output);
    }
}
