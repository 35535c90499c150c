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
}
