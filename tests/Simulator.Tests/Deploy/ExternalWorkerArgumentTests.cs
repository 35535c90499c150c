namespace FleetSim.Simulator.Tests.Deploy;

/// <summary>Bad values of the options for external workers and Kubernetes formation: exit code 2, a clear message, nothing run.</summary>
public sealed class ExternalWorkerArgumentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-external-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Scenario()
    {
        var path = Path.Combine(_dir, "small.yaml");
        File.WriteAllText(path, """
            name: small
            deviceGroups:
              - {name: s, count: 4, idPrefix: small-}
            duration: 2s
            """);
        return path;
    }

    [Theory]
    [InlineData("--discovery consul", "error: --discovery: expected none or kubernetes")]
    [InlineData("--discovery kubernetes --seed 127.0.0.1:4053", "error: --seed and --discovery kubernetes cannot be used together")]
    [InlineData("--bind 0.0.0.0", "error: --seed: expected HOST:PORT of the coordinator (or --discovery kubernetes")]
    [InlineData("--seed 127.0.0.1:4053 --namespace load", "error: --namespace: applies only with --discovery kubernetes")]
    [InlineData("--seed 127.0.0.1:4053 --management-port 8558", "error: --management-port: applies only with --discovery kubernetes")]
    [InlineData("--discovery kubernetes --namespace Bad_NS", "error: --namespace: expected a Kubernetes namespace name")]
    [InlineData("--discovery kubernetes --discovery-selector ", "error: --discovery-selector: expected a Kubernetes label selector")]
    [InlineData("--discovery kubernetes --management-port 0", "error: --management-port: expected a port from 1 to 65535; found 0")]
    [InlineData("--seed 127.0.0.1:4053 --public-host 0.0.0.0", "error: --public-host: 0.0.0.0 is a wildcard listen address")]
    [InlineData("--seed 127.0.0.1:4053 --bind host:4053", "error: --bind: expected a host name or IP address (no port); found 'host:4053'")]
    public async Task A_bad_node_option_exits_2(string args, string expected)
    {
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, ["node", .. args.Split(' ')]);

        Assert.True(result.ExitCode == 2, result.All);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
        Assert.DoesNotContain("joining", result.Stdout);
    }

    [Theory]
    [InlineData("--wait-workers 0", "error: --wait-workers: expected a number of worker nodes from 1 to 1,000")]
    [InlineData("--nodes 2 --wait-workers 2", "error: --nodes and --wait-workers cannot be used together")]
    [InlineData("--cluster-host 10.0.0.5", "error: --cluster-host: applies only with --wait-workers N")]
    [InlineData("--discovery kubernetes", "error: --discovery: applies only with --wait-workers N")]
    [InlineData("--wait-workers 2 --discovery dns", "error: --discovery: expected none or kubernetes")]
    [InlineData("--wait-workers 2 --management-port 8558", "error: --management-port: applies only with --discovery kubernetes")]
    [InlineData("--wait-workers 2 --cluster-port 70000", "error: --cluster-port: expected a port from 0 (any free port) to 65535; found 70000")]
    [InlineData("--wait-workers 2 --cluster-host 0.0.0.0", "error: --cluster-host: 0.0.0.0 is a wildcard listen address")]
    [InlineData("--wait-workers 2 --cluster-bind 0.0.0.0 --cluster-host coordinator", "workers on other machines cannot reach the embedded hub")]
    public async Task A_bad_coordinator_option_exits_2_and_runs_nothing(string args, string expected)
    {
        var outDir = Path.Combine(_dir, "out");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, ["run", Scenario(), "--out", outDir, .. args.Split(' ')]);

        Assert.True(result.ExitCode == 2, result.All);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
        Assert.False(Directory.Exists(outDir), "nothing ran");
    }
}
