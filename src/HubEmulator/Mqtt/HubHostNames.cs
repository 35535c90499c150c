using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// The names a client may call the hub by in its MQTT username and SAS resource: the host name, and the host
/// name with either listening port (the Node SDK puts a <c>:port</c> from HostName into both). Case-insensitive.
/// </summary>
internal sealed class HubHostNames
{
    private string[] _names;

    public HubHostNames(string hostName)
    {
        HostName = hostName;
        _names = [hostName];
    }

    public string HostName { get; }

    /// <summary>Called once the ports are bound.</summary>
    public void AddPorts(params int[] ports) =>
        _names = [HostName, .. ports.Select(p => $"{HostName}:{p.ToString(System.Globalization.CultureInfo.InvariantCulture)}")];

    public bool Matches(string? host)
    {
        foreach (var name in Volatile.Read(ref _names))
        {
            if (string.Equals(name, host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the token's resource covers <paramref name="path"/> under any of the hub's names.</summary>
    public bool Covers(SasToken token, string path)
    {
        foreach (var name in Volatile.Read(ref _names))
        {
            if (token.Covers(name, path))
            {
                return true;
            }
        }

        return false;
    }
}
