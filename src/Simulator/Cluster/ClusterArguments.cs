using System.Globalization;

namespace FleetSim.Simulator.Cluster;

/// <summary>Command-line values of cluster options, checked at the edge with a message that says what was expected.</summary>
public static class ClusterArguments
{
    /// <summary>HOST:PORT of a cluster member (the coordinator), e.g. 127.0.0.1:4053.</summary>
    public static bool TryParseSeed(string? text, out string seed, out string error)
    {
        seed = "";
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0 || colon == text.Length - 1
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || text[..colon].Any(char.IsWhiteSpace))
        {
            error = $"--seed: expected HOST:PORT of a cluster member (the coordinator of a run), for example 127.0.0.1:4053; found '{text}'";
            return false;
        }

        seed = text;
        error = "";
        return true;
    }

    /// <summary>--nodes N (1-64) or auto: enough workers that none holds more than <see cref="ConnectionsPerWorker"/> connections.</summary>
    public static bool TryParseNodes(string? text, int devices, out int nodes, out string error)
    {
        nodes = 0;
        error = "";
        if (text is null)
            return true;
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            nodes = AutoNodes(devices);
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out nodes) && nodes is >= 1 and <= MaxNodes)
            return true;
        nodes = 0;
        error = $"--nodes: expected a number of worker processes from 1 to {MaxNodes}, or auto; found '{text}'";
        return false;
    }

    public const int MaxNodes = 64;

    /// <summary>What one process holds comfortably under the 20,000 open files per process (one socket per device, plus spare).</summary>
    public const int ConnectionsPerWorker = 15_000;

    public static int AutoNodes(int devices) => Math.Clamp((devices + ConnectionsPerWorker - 1) / ConnectionsPerWorker, 1, MaxNodes);

    /// <summary>Most external workers a coordinator waits for (<c>--wait-workers</c>): far beyond any fleet this tool targets.</summary>
    public const int MaxExternalWorkers = 1_000;

    /// <summary>--wait-workers N: how many workers started elsewhere (fleetsim node) the coordinator waits for.</summary>
    public static bool TryParseWaitWorkers(int? value, out string error)
    {
        error = value is null or (>= 1 and <= MaxExternalWorkers)
            ? ""
            : $"--wait-workers: expected a number of worker nodes from 1 to {MaxExternalWorkers:N0} (started elsewhere with 'fleetsim node'); found {value}";
        return error.Length == 0;
    }

    /// <summary>A host name or address option (--bind, --public-host, --cluster-bind, --cluster-host): no blanks, no scheme, no port.</summary>
    public static bool TryParseHost(string option, string? text, bool allowWildcard, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(text) || text.Any(static c => char.IsWhiteSpace(c) || c is '/' or '@') || (text.Contains(':') && !System.Net.IPAddress.TryParse(text, out _)))
            error = $"{option}: expected a host name or IP address (no port); found '{text}'";
        else if (!allowWildcard && FleetSim.Cluster.Hosting.ClusterEndpoint.IsWildcard(text))
            error = $"{option}: {text} is a wildcard listen address that nobody can connect to; give the host name or address other machines reach this one at";
        return error.Length == 0;
    }

    /// <summary>A port option: 0 (any free port) when allowed, else 1-65535.</summary>
    public static bool TryParsePort(string option, int port, bool allowAny, out string error)
    {
        var low = allowAny ? 0 : 1;
        error = port >= low && port <= 65535 ? "" : $"{option}: expected a port from {(allowAny ? "0 (any free port)" : "1")} to 65535; found {port}";
        return error.Length == 0;
    }

    public const string DiscoveryNone = "none";
    public const string DiscoveryKubernetes = "kubernetes";

    /// <summary>--discovery none|kubernetes: how a cluster forms without (none: --seed) or with Akka.Management cluster bootstrap.</summary>
    public static bool TryParseDiscovery(string? text, out bool kubernetes, out string error)
    {
        kubernetes = string.Equals(text, DiscoveryKubernetes, StringComparison.OrdinalIgnoreCase);
        error = text is null || kubernetes || string.Equals(text, DiscoveryNone, StringComparison.OrdinalIgnoreCase)
            ? ""
            : $"--discovery: expected {DiscoveryNone} or {DiscoveryKubernetes} (Akka.Management cluster bootstrap through the Kubernetes API); found '{text}'";
        return error.Length == 0;
    }

    /// <summary>A Kubernetes label selector such as app.kubernetes.io/component=coordinator (comma-separated requirements).</summary>
    public static bool TryParseLabelSelector(string? text, out string error)
    {
        error = !string.IsNullOrWhiteSpace(text) && !text.Any(char.IsWhiteSpace) && text.Split(',').All(static r => r.Length > 0)
            ? ""
            : $"--discovery-selector: expected a Kubernetes label selector such as {FleetSim.Cluster.Hosting.KubernetesFormation.DefaultLabelSelector}; found '{text}'";
        return error.Length == 0;
    }
}
