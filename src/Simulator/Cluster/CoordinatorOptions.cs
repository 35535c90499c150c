using System.CommandLine;
using FleetSim.Cluster.Hosting;

namespace FleetSim.Simulator.Cluster;

/// <summary>
/// How a run's coordinator meets workers started elsewhere (other machines, containers, pods): <c>--wait-workers N</c>
/// instead of starting local ones, the address it listens on and is reached at, and how workers find it.
/// </summary>
/// <param name="Endpoint">Where the coordinator listens and the address workers reach it at.</param>
/// <param name="ExternalWorkers">How many workers to wait for before the load starts.</param>
/// <param name="Formation">Set when workers find the coordinator through Kubernetes discovery rather than a --seed.</param>
public sealed record ClusterSetup(ClusterEndpoint Endpoint, int ExternalWorkers, KubernetesFormation? Formation);

/// <summary>The <c>fleetsim run</c> options of a coordinator with external workers, and their checks (bad values: exit 2).</summary>
public sealed class CoordinatorOptions
{
    public Option<int?> WaitWorkers { get; } = new("--wait-workers") { Description = "Wait for N workers started elsewhere ('fleetsim node --seed CLUSTER_HOST:PORT', or --discovery kubernetes) instead of starting local ones" };
    public Option<string?> Bind { get; } = new("--cluster-bind") { Description = "With --wait-workers: address the coordinator's cluster endpoint listens on (default 127.0.0.1; 0.0.0.0 for all)" };
    public Option<string?> Host { get; } = new("--cluster-host") { Description = "With --wait-workers: host name or address workers reach the coordinator at (default: the bind address, or this machine's address for 0.0.0.0)" };
    public Option<int?> Port { get; } = new("--cluster-port") { Description = "With --wait-workers: the coordinator's cluster port (default 0: any free port, printed at start)" };
    public Option<string?> Discovery { get; } = new("--discovery") { Description = "With --wait-workers: kubernetes serves the Akka.Management endpoint workers bootstrap from (none: they use --seed)" };
    public Option<int?> ManagementPort { get; } = new("--management-port") { Description = $"With --discovery kubernetes: the Akka.Management HTTP port (default {KubernetesFormation.DefaultManagementPort})" };

    public IEnumerable<Option> All => [WaitWorkers, Bind, Host, Port, Discovery, ManagementPort];

    /// <summary>Null setup when no worker is external; an error when a value is bad or an option has nothing to act on.</summary>
    /// <param name="nodes">Local workers asked for with --nodes.</param>
    /// <param name="embeddedHub">Whether the run starts the embedded hub (it listens on loopback only).</param>
    public bool TryRead(ParseResult parse, int nodes, bool embeddedHub, out ClusterSetup? setup, out string error)
    {
        setup = null;
        var wait = parse.GetValue(WaitWorkers);
        if (!ClusterArguments.TryParseWaitWorkers(wait, out error))
            return false;
        if (wait is null)
        {
            var orphan = All.Skip(1).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
            error = orphan is null ? "" : $"{orphan.Name}: applies only with --wait-workers N (workers started elsewhere that join this run)";
            return orphan is null;
        }

        if (nodes > 0)
        {
            error = "--nodes and --wait-workers cannot be used together: --nodes starts workers on this machine, --wait-workers waits for workers started elsewhere";
            return false;
        }

        var bind = parse.GetValue(Bind) ?? ClusterEndpoint.Loopback.BindHost;
        if (!ClusterArguments.TryParseHost("--cluster-bind", bind, allowWildcard: true, out error))
            return false;
        var host = parse.GetValue(Host);
        if (host is not null && !ClusterArguments.TryParseHost("--cluster-host", host, allowWildcard: false, out error))
            return false;
        host ??= ClusterEndpoint.DefaultPublicHost(bind);
        if (host is null)
        {
            error = $"--cluster-host: required with --cluster-bind {bind} (this machine's host name resolves to no IPv4 address workers could use)";
            return false;
        }

        var port = parse.GetValue(Port) ?? 0;
        if (!ClusterArguments.TryParsePort("--cluster-port", port, allowAny: true, out error))
            return false;
        if (!ClusterArguments.TryParseDiscovery(parse.GetValue(Discovery), out var kubernetes, out error))
            return false;
        var managementPort = parse.GetValue(ManagementPort);
        if (managementPort is not null && !kubernetes)
        {
            error = "--management-port: applies only with --discovery kubernetes";
            return false;
        }

        if (!ClusterArguments.TryParsePort("--management-port", managementPort ?? KubernetesFormation.DefaultManagementPort, allowAny: false, out error))
            return false;
        if (embeddedHub && !ClusterEndpoint.IsLoopback(host))
        {
            error = $"--wait-workers with --cluster-host {host}: workers on other machines cannot reach the embedded hub (it listens on 127.0.0.1); "
                + "start 'fleetsim hub --bind 0.0.0.0 --host-name HOST' where they reach it and pass its state file with --hub-state (or name a real hub with --hub)";
            return false;
        }

        setup = new ClusterSetup(new ClusterEndpoint(bind, host, port), wait.Value,
            kubernetes ? new KubernetesFormation(KubernetesFormation.DefaultLabelSelector, null, managementPort ?? KubernetesFormation.DefaultManagementPort) : null);
        return true;
    }
}
