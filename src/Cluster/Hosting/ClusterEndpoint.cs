using System.Net;
using System.Net.Sockets;

namespace FleetSim.Cluster.Hosting;

/// <summary>
/// Where a cluster member listens (<see cref="BindHost"/>) and the address other members use to reach it
/// (<see cref="PublicHost"/>, part of its Akka address). They differ in containers: a worker listens on 0.0.0.0 and is
/// reached at its container or pod address.
/// </summary>
public sealed record ClusterEndpoint(string BindHost, string PublicHost, int Port)
{
    /// <summary>A member on this machine only: loopback, any free port (what <c>--nodes N</c> uses).</summary>
    public static ClusterEndpoint Loopback { get; } = new("127.0.0.1", "127.0.0.1", 0);

    /// <summary>Whether a host is a wildcard listen address (0.0.0.0, ::), which nobody can connect to.</summary>
    public static bool IsWildcard(string host) =>
        IPAddress.TryParse(host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any));

    /// <summary>Whether a host is a loopback address or localhost: reachable from this machine only.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// The public host when none was given: the bind host, or for a wildcard bind this machine's IPv4 address (its host
    /// name resolved: in a container or pod that is the container's or pod's address), or null when it has none.
    /// </summary>
    public static string? DefaultPublicHost(string bindHost)
    {
        if (!IsWildcard(bindHost))
            return bindHost;
        try
        {
            return Dns.GetHostAddresses(Dns.GetHostName())
                .FirstOrDefault(static a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString();
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
