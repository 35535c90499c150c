using System.Net;
using System.Net.Sockets;
using System.Text;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Proxy;

/// <summary>
/// MQTT over TLS through a SOCKS4 proxy, in its 4a form (the Python SDK's "SOCKS4" via PySocks resolves remotely too):
/// CONNECT with the user id (the proxy's only credential) and, for a host name, the 0.0.0.1 address followed by
/// the name, so the proxy resolves it. SOCKS4 has no IPv6. Reply 90 opens the tunnel; 92 and 93 (the proxy could not
/// confirm the user id with identd) are refused credentials; 91 is a refusal of the connection.
/// Stateless: one per group, used by every device's connects at once.
/// </summary>
public sealed class Socks4StreamProvider : IMqttClientStreamProvider
{
    private const byte Version = 4;
    private const byte Connect = 1;
    private const byte Granted = 90;

    private readonly ProxyOptions _proxy;
    private readonly byte[] _userId;

    public Socks4StreamProvider(ProxyOptions proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        _proxy = proxy;
        _userId = Encoding.UTF8.GetBytes(proxy.UserName ?? "");
    }

    public Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        byte[] request;
        try
        {
            request = ConnectRequest(brokerEndPoint);
        }
        catch (MqttProxyException e)
        {
            return Task.FromException<Stream>(e); // like every other failure: through the task
        }

        return ProxyConnection.TunnelAsync(_proxy, cancellationToken, (stream, ct) => HandshakeAsync(stream, request, ct));
    }

    private async Task HandshakeAsync(Stream stream, byte[] request, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        var reply = new byte[8];
        await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
        if (reply[0] != 0)
            throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"not a SOCKS4 reply (version byte {reply[0]})");
        switch (reply[1])
        {
            case Granted:
                return;
            case 91:
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyConnectionNotAllowed, "CONNECT rejected or failed (reply 91)");
            case 92 or 93:
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAuthFailed,
                    $"the proxy could not confirm user id '{_proxy.UserName}' (reply {reply[1]}: {(reply[1] == 92 ? "no identd" : "identd disagrees")})");
            default:
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"unknown SOCKS4 reply {reply[1]}");
        }
    }

    private byte[] ConnectRequest(EndPoint endPoint)
    {
        var (host, port) = endPoint switch
        {
            DnsEndPoint dns => (dns.Host, dns.Port),
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => throw new NotSupportedException($"a proxy cannot connect to a {endPoint.GetType().Name} ({endPoint})"),
        };
        byte[] head = [Version, Connect, (byte)(port >> 8), (byte)port];
        if (IPAddress.TryParse(host, out var address))
        {
            if (address.AddressFamily != AddressFamily.InterNetwork)
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAddressTypeNotSupported, $"SOCKS4 cannot reach the IPv6 address {address}");
            return [.. head, .. address.GetAddressBytes(), .. _userId, 0];
        }

        // SOCKS4a: an address 0.0.0.x (x != 0) says "the host name follows the user id".
        return [.. head, 0, 0, 0, 1, .. _userId, 0, .. Encoding.ASCII.GetBytes(host), 0];
    }
}
