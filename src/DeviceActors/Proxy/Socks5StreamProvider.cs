using System.Net;
using System.Net.Sockets;
using System.Text;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Proxy;

/// <summary>
/// MQTT over TLS through a SOCKS5 proxy (RFC 1928): offers no authentication, and user name/password
/// (RFC 1929) when a user name is set; CONNECT names a host name as a domain (ATYP 3), so the proxy resolves it,
/// and an IP address as IPv4 or IPv6. Reply codes map one to one to <see cref="MqttProxyErrorCode"/>.
/// Stateless: one per group, used by every device's connects at once.
/// </summary>
public sealed class Socks5StreamProvider : IMqttClientStreamProvider
{
    private const byte Version = 5;
    private const byte NoAuthentication = 0x00;
    private const byte UserPassword = 0x02;
    private const byte NoAcceptableMethod = 0xFF;

    private readonly ProxyOptions _proxy;
    private readonly byte[] _greeting;
    private readonly byte[]? _login;

    public Socks5StreamProvider(ProxyOptions proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        _proxy = proxy;
        _greeting = proxy.UserName is null ? [Version, 1, NoAuthentication] : [Version, 2, NoAuthentication, UserPassword];
        if (proxy.UserName is not null)
        {
            var user = Encoding.UTF8.GetBytes(proxy.UserName);
            var password = Encoding.UTF8.GetBytes(proxy.Password ?? "");
            if (user.Length > 255 || password.Length > 255)
                throw new ArgumentException("SOCKS5 user names and passwords are at most 255 bytes", nameof(proxy));
            _login = [1, (byte)user.Length, .. user, (byte)password.Length, .. password];
        }
    }

    public Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var request = ConnectRequest(brokerEndPoint);
        return ProxyConnection.TunnelAsync(_proxy, cancellationToken, (stream, ct) => HandshakeAsync(stream, request, ct));
    }

    private async Task HandshakeAsync(Stream stream, byte[] connect, CancellationToken cancellationToken)
    {
        var buffer = new byte[262];
        await stream.WriteAsync(_greeting, cancellationToken).ConfigureAwait(false);
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
        if (buffer[0] != Version)
            throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"not a SOCKS5 answer (version byte {buffer[0]})");
        switch (buffer[1])
        {
            case NoAuthentication:
                break;
            case UserPassword when _login is not null:
                await stream.WriteAsync(_login, cancellationToken).ConfigureAwait(false);
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
                if (buffer[0] != 1)
                    throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"not a RFC 1929 answer (version byte {buffer[0]})");
                if (buffer[1] != 0)
                    throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAuthFailed, $"the proxy refused the credentials of user '{_proxy.UserName}'");
                break;
            case NoAcceptableMethod:
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAuthMethodRejected, _login is null
                    ? "the proxy requires authentication (it refused 'no authentication')"
                    : "the proxy accepts none of the offered authentication methods (none, user name/password)");
            default:
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"the proxy chose authentication method {buffer[1]}, which was not offered");
        }

        await stream.WriteAsync(connect, cancellationToken).ConfigureAwait(false);
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
        if (buffer[0] != Version)
            throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"not a SOCKS5 reply (version byte {buffer[0]})");
        if (buffer[1] != 0)
            throw ProxyConnection.Error(_proxy, Code(buffer[1]), $"CONNECT failed with reply {buffer[1]} ({Describe(buffer[1])})");

        // Skip BND.ADDR and BND.PORT so that the tunnel starts at the next byte.
        var rest = buffer[3] switch
        {
            1 => 4 + 2,
            4 => 16 + 2,
            3 => -1,
            _ => throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"unknown address type {buffer[3]} in the CONNECT reply"),
        };
        if (rest < 0)
        {
            await stream.ReadExactlyAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
            rest = buffer[0] + 2;
        }

        await stream.ReadExactlyAsync(buffer.AsMemory(0, rest), cancellationToken).ConfigureAwait(false);
    }

    private byte[] ConnectRequest(EndPoint endPoint)
    {
        var (host, port) = endPoint switch
        {
            DnsEndPoint dns => (dns.Host, dns.Port),
            IPEndPoint ip => ((string?)null, ip.Port),
            _ => throw new NotSupportedException($"a proxy cannot connect to a {endPoint.GetType().Name} ({endPoint})"),
        };
        var address = endPoint is IPEndPoint ep ? ep.Address : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        byte[] target;
        if (address is not null)
            target = [address.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)4 : (byte)1, .. address.GetAddressBytes()];
        else
        {
            var name = Encoding.ASCII.GetBytes(host!);
            if (name.Length > 255)
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAddressTypeNotSupported, $"host name longer than 255 bytes: {host}");
            target = [3, (byte)name.Length, .. name];
        }

        return [Version, 1, 0, .. target, (byte)(port >> 8), (byte)port];
    }

    private static MqttProxyErrorCode Code(byte reply) => reply switch
    {
        1 => MqttProxyErrorCode.ProxyGeneralFailure,
        2 => MqttProxyErrorCode.ProxyConnectionNotAllowed,
        3 => MqttProxyErrorCode.ProxyNetworkUnreachable,
        4 => MqttProxyErrorCode.ProxyHostUnreachable,
        5 => MqttProxyErrorCode.ProxyConnectionRefused,
        6 => MqttProxyErrorCode.ProxyTtlExpired,
        7 => MqttProxyErrorCode.ProxyCommandNotSupported,
        8 => MqttProxyErrorCode.ProxyAddressTypeNotSupported,
        _ => MqttProxyErrorCode.ProxyUnknownError,
    };

    private static string Describe(byte reply) => reply switch
    {
        1 => "general failure",
        2 => "not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned",
    };
}
