using System.Net;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Transport;

/// <summary>One partition of an emulated hub split over several processes: its MQTT/TLS and HTTPS listeners.</summary>
public sealed record HubPartitionEndpoint(string Host, int MqttPort, int HttpsPort);

/// <summary>
/// Where one device opens its connections: the group's endpoint, or, when the hub is partitioned, the endpoint of the
/// partition that owns the device (<see cref="HubPartitions.PartitionOf"/>, the function the hub side routes by); and
/// from which local address, when the group spreads its connections over several loopback source addresses.
/// </summary>
/// <param name="Host">MQTT host (TCP or WebSockets).</param>
/// <param name="Port">MQTT port (the HTTPS port for WebSockets).</param>
/// <param name="UploadHost">Host of the HTTPS endpoint for file uploads.</param>
/// <param name="HttpsPort">HTTPS port for file uploads.</param>
/// <param name="LocalAddress">Source address to bind the MQTT/TCP socket to; null lets the OS choose.</param>
public readonly record struct ConnectionTarget(string Host, int Port, string UploadHost, int HttpsPort, IPAddress? LocalAddress)
{
    public static ConnectionTarget For(DeviceOptions options, DeviceIdentity identity)
    {
        var ws = options.Transport == DeviceTransportKind.MqttWebSockets;
        var host = options.MqttHost;
        var port = options.MqttPort;
        var uploadHost = options.HostName;
        var https = options.FileUpload?.HttpsPort ?? 443;
        if (options.Partitions.Count > 0)
        {
            var partition = options.Partitions[HubPartitions.PartitionOf(identity.DeviceId, options.Partitions.Count)];
            host = partition.Host;
            port = ws ? partition.HttpsPort : partition.MqttPort;
            uploadHost = partition.Host;
            https = partition.HttpsPort;
        }

        // Only a direct MQTT/TCP connection to a loopback address is bound: any 127.x address is a valid source for it,
        // and each source address has its own ~28k ephemeral ports towards one destination.
        IPAddress? local = null;
        if (options.LocalAddresses.Count > 0 && !ws && options.Proxy is null && options.Relay is null && IsLoopbackV4(host))
            local = options.LocalAddresses[identity.Index % options.LocalAddresses.Count];
        return new ConnectionTarget(host, port, uploadHost, https, local);
    }

    private static bool IsLoopbackV4(string host) =>
        IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && IPAddress.IsLoopback(address);
}
