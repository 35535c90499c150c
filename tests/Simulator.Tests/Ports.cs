using System.Net;
using System.Net.Sockets;

namespace FleetSim.Simulator.Tests;

/// <summary>Free loopback ports for what a test starts (never fixed ones).</summary>
public static class Ports
{
    /// <summary>A port the OS just handed out on 127.0.0.1 (free for the process the test starts next).</summary>
    public static int Free()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
