using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MQTTnet.Channel;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Proxy;

/// <summary>
/// MQTT over TLS through an HTTP proxy: <c>CONNECT host:port HTTP/1.1</c> (RFC 9110 section 9.3.6), with
/// <c>Proxy-Authorization: Basic</c> when a user name is set. A 2xx answer opens the tunnel; 407 is
/// <see cref="MqttProxyErrorCode.ProxyAuthFailed"/>; any other status is an error naming the status line.
/// Stateless: one per group, used by every device's connects at once.
/// </summary>
public sealed class HttpConnectStreamProvider : IMqttClientStreamProvider
{
    /// <summary>An answer header longer than this is not an HTTP proxy talking.</summary>
    private const int MaxHeaderBytes = 16 * 1024;

    /// <summary>The request header naming the device, sent when the provider is made for one device (a relay such as the chaos proxy).</summary>
    public const string DeviceHeader = "FleetSim-Device";

    private readonly ProxyOptions _proxy;
    private readonly string? _authorization;
    private readonly string? _deviceId;

    /// <param name="proxy">The proxy.</param>
    /// <param name="deviceId">When set, every CONNECT request names this device in a <see cref="DeviceHeader"/> header.</param>
    public HttpConnectStreamProvider(ProxyOptions proxy, string? deviceId = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        _proxy = proxy;
        _deviceId = deviceId;
        if (proxy.UserName is not null)
            _authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{proxy.UserName}:{proxy.Password}"));
    }

    public Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var target = Authority(brokerEndPoint);
        return ProxyConnection.TunnelAsync(_proxy, cancellationToken, (stream, ct) => HandshakeAsync(stream, target, ct));
    }

    private async Task HandshakeAsync(Stream stream, string target, CancellationToken cancellationToken)
    {
        var request = new StringBuilder()
            .Append("CONNECT ").Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(target).Append("\r\n");
        if (_authorization is not null)
            request.Append("Proxy-Authorization: ").Append(_authorization).Append("\r\n");
        if (_deviceId is not null)
            request.Append(DeviceHeader).Append(": ").Append(_deviceId).Append("\r\n");
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken).ConfigureAwait(false);

        var statusLine = await ReadHeaderAsync(stream, cancellationToken).ConfigureAwait(false);
        var status = ParseStatus(statusLine);
        if (status is >= 200 and < 300)
            return;
        throw status switch
        {
            407 => ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyAuthFailed, _authorization is null
                ? $"the proxy requires authentication ({statusLine})"
                : $"the proxy refused the credentials of user '{_proxy.UserName}' ({statusLine})"),
            403 => ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyConnectionNotAllowed, $"CONNECT {target} refused: {statusLine}"),
            502 or 503 or 504 => ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyHostUnreachable, $"CONNECT {target} failed: {statusLine}"),
            _ => ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyGeneralFailure, $"CONNECT {target} failed: {statusLine}"),
        };
    }

    /// <summary>
    /// Reads the answer header up to and including the empty line, one byte at a time so that no byte of the tunnel
    /// behind it is consumed (the TLS handshake starts right after). Returns the status line.
    /// </summary>
    private async Task<string> ReadHeaderAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[MaxHeaderBytes];
        var length = 0;
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
                throw new EndOfStreamException();
            if (length == header.Length)
                throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"the answer to CONNECT has no end within {MaxHeaderBytes} bytes");
            header[length++] = one[0];
            if (length >= 4 && header[length - 1] == '\n' && header[length - 2] == '\r' && header[length - 3] == '\n' && header[length - 4] == '\r')
                break;
            if (length >= 2 && header[length - 1] == '\n' && header[length - 2] == '\n') // tolerate bare LF line ends
                break;
        }

        var text = Encoding.Latin1.GetString(header, 0, length);
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private int ParseStatus(string statusLine)
    {
        // HTTP/1.x SP 3DIGIT [SP reason]
        var parts = statusLine.Split(' ', 3);
        if (parts.Length >= 2 && parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) && parts[1].Length == 3
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status >= 100)
            return status;
        throw ProxyConnection.Error(_proxy, MqttProxyErrorCode.ProxyProtocolError, $"not an HTTP answer to CONNECT: '{Printable(statusLine)}'");
    }

    private static string Printable(string text)
    {
        var cut = text.Length > 80 ? text[..80] : text;
        return string.Create(cut.Length, cut, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
                span[i] = s[i] is >= ' ' and <= '~' ? s[i] : '?';
        });
    }

    /// <summary>host:port for the request target and the Host header (IPv6 literals in brackets).</summary>
    internal static string Authority(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => (IPAddress.TryParse(dns.Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 && !dns.Host.StartsWith('[')
            ? $"[{dns.Host}]" : dns.Host) + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        IPEndPoint ip => ip.ToString(), // [::1]:8883 or 127.0.0.1:8883
        _ => throw new NotSupportedException($"a proxy cannot connect to a {endPoint.GetType().Name} ({endPoint})"),
    };
}
