using System.Net;
using System.Net.Sockets;
using System.Text;
using FleetSim.DeviceActors.Proxy;
using MQTTnet.Exceptions;

namespace FleetSim.DeviceActors.Tests.Proxy;

/// <summary>The proxy handshakes (HTTP CONNECT, SOCKS5, SOCKS4a) against scripted peers on loopback: what they send, and what each answer becomes.</summary>
public sealed class ProxyHandshakeTests
{
    private static readonly DnsEndPoint Hub = new("hub.example.org", 8883);

    [Fact]
    public async Task Http_connect_sends_the_target_and_basic_credentials_and_keeps_the_bytes_after_the_header()
    {
        string? request = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            request = await ReadHttpHeaderAsync(stream);
            // The tunnel's first bytes come in the same segment as the answer: none may be swallowed.
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nHELLO"));
        });
        var provider = new HttpConnectStreamProvider(peer.Options(ProxyKind.Http, "user", "secret"));

        await using var tunnel = await provider.ConnectAsync(Hub, CancellationToken.None);

        var hello = new byte[5];
        await tunnel.ReadExactlyAsync(hello);
        Assert.Equal("HELLO", Encoding.ASCII.GetString(hello));
        var lines = request!.Split("\r\n");
        Assert.Equal("CONNECT hub.example.org:8883 HTTP/1.1", lines[0]);
        Assert.Contains("Host: hub.example.org:8883", lines);
        Assert.Contains("Proxy-Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:secret")), lines);
    }

    [Fact]
    public async Task Http_connect_without_a_user_sends_no_credentials_and_brackets_ipv6_targets()
    {
        string? request = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            request = await ReadHttpHeaderAsync(stream);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\n\r\n"));
        });

        await using var tunnel = await new HttpConnectStreamProvider(peer.Options(ProxyKind.Http))
            .ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, 8883), CancellationToken.None);

        Assert.StartsWith("CONNECT [::1]:8883 HTTP/1.1\r\n", request);
        Assert.DoesNotContain("Proxy-Authorization", request);
    }

    [Fact]
    public async Task Http_407_is_auth_failed()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadHttpHeaderAsync(stream);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n"));
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new HttpConnectStreamProvider(peer.Options(ProxyKind.Http, "user", "wrong")).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyAuthFailed, error.ErrorCode);
        Assert.Equal(FailureKind.ProxyUnauthorized, FailureKinds.FromException(error));
        Assert.DoesNotContain("wrong", error.Message);
    }

    [Fact]
    public async Task Http_other_status_is_an_error_naming_the_status_line()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadHttpHeaderAsync(stream);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n"));
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new HttpConnectStreamProvider(peer.Options(ProxyKind.Http)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Contains("HTTP/1.1 418 I'm a teapot", error.Message);
        Assert.Equal(FailureKind.Network, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task Http_garbage_answer_is_a_protocol_error()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadHttpHeaderAsync(stream);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new HttpConnectStreamProvider(peer.Options(ProxyKind.Http)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyProtocolError, error.ErrorCode);
    }

    [Fact]
    public async Task Http_proxy_closing_before_answering_is_a_protocol_error()
    {
        await using var peer = new ScriptedPeer(async stream => await ReadHttpHeaderAsync(stream));

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new HttpConnectStreamProvider(peer.Options(ProxyKind.Http)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyProtocolError, error.ErrorCode);
    }

    [Fact]
    public async Task A_proxy_that_never_answers_is_cancelled_by_the_token()
    {
        var hold = new TaskCompletionSource();
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadHttpHeaderAsync(stream);
            await hold.Task;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new HttpConnectStreamProvider(peer.Options(ProxyKind.Http)).ConnectAsync(Hub, timeout.Token));

        hold.SetResult();
        Assert.Equal(FailureKind.Timeout, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task A_proxy_not_listening_is_unreachable_and_classified_as_network()
    {
        var port = ScriptedPeer.UnusedPort();

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks5StreamProvider(new ProxyOptions(ProxyKind.Socks5, "127.0.0.1", port)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyUnreachable, error.ErrorCode);
        Assert.Equal(FailureKind.Network, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task Socks5_with_credentials_offers_both_methods_logs_in_and_asks_for_the_host_name()
    {
        byte[]? greeting = null, login = null, connect = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            greeting = await ReadAsync(stream, 4);
            await stream.WriteAsync(new byte[] { 5, 2 });
            login = await ReadAsync(stream, 2 + 4 + 1 + 6);
            await stream.WriteAsync(new byte[] { 1, 0 });
            connect = await ReadAsync(stream, 4 + 1 + Hub.Host.Length + 2);
            // Reply with a domain BND.ADDR, then the tunnel's first bytes in the same segment.
            await stream.WriteAsync(new byte[] { 5, 0, 0, 3, 3, (byte)'p', (byte)'x', (byte)'y', 0x1F, 0x90, (byte)'H', (byte)'I' });
        });

        await using var tunnel = await new Socks5StreamProvider(peer.Options(ProxyKind.Socks5, "user", "secret"))
            .ConnectAsync(Hub, CancellationToken.None);

        var hi = new byte[2];
        await tunnel.ReadExactlyAsync(hi);
        Assert.Equal("HI", Encoding.ASCII.GetString(hi));
        Assert.Equal(new byte[] { 5, 2, 0, 2 }, greeting);
        Assert.Equal([1, 4, .. "user"u8, 6, .. "secret"u8], login);
        Assert.Equal([5, 1, 0, 3, (byte)Hub.Host.Length, .. Encoding.ASCII.GetBytes(Hub.Host), 0x22, 0xB3], connect);
    }

    [Fact]
    public async Task Socks5_sends_ip_endpoints_as_addresses()
    {
        byte[]? connect = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 3);
            await stream.WriteAsync(new byte[] { 5, 0 });
            connect = await ReadAsync(stream, 4 + 16 + 2);
            await stream.WriteAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 1 });
        });

        await using var tunnel = await new Socks5StreamProvider(peer.Options(ProxyKind.Socks5))
            .ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, 443), CancellationToken.None);

        Assert.Equal([5, 1, 0, 4, .. IPAddress.IPv6Loopback.GetAddressBytes(), 1, 0xBB], connect);
    }

    [Fact]
    public async Task Socks5_reply_5_is_connection_refused_and_retried_as_network()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 3);
            await stream.WriteAsync(new byte[] { 5, 0 });
            await ReadAsync(stream, 4 + 1 + Hub.Host.Length + 2);
            await stream.WriteAsync(new byte[] { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 });
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks5StreamProvider(peer.Options(ProxyKind.Socks5)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyConnectionRefused, error.ErrorCode);
        Assert.Equal(FailureKind.Network, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task Socks5_refused_login_is_auth_failed()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 4);
            await stream.WriteAsync(new byte[] { 5, 2 });
            await ReadAsync(stream, 2 + 4 + 1 + 5);
            await stream.WriteAsync(new byte[] { 1, 1 });
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks5StreamProvider(peer.Options(ProxyKind.Socks5, "user", "wrong")).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyAuthFailed, error.ErrorCode);
        Assert.Equal(FailureKind.ProxyUnauthorized, FailureKinds.FromException(error));
        Assert.DoesNotContain("wrong", error.Message);
    }

    [Fact]
    public async Task Socks5_no_acceptable_method_is_auth_method_rejected()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 3);
            await stream.WriteAsync(new byte[] { 5, 0xFF });
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks5StreamProvider(peer.Options(ProxyKind.Socks5)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyAuthMethodRejected, error.ErrorCode);
        Assert.Equal(FailureKind.ProxyUnauthorized, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task Socks5_garbage_answer_is_a_protocol_error()
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 3);
            await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray());
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks5StreamProvider(peer.Options(ProxyKind.Socks5)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(MqttProxyErrorCode.ProxyProtocolError, error.ErrorCode);
        Assert.Equal(FailureKind.Network, FailureKinds.FromException(error));
    }

    [Fact]
    public async Task Socks4a_sends_the_user_id_and_the_host_name_and_keeps_the_bytes_after_the_reply()
    {
        byte[]? request = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            request = await ReadAsync(stream, 8 + "me".Length + 1 + Hub.Host.Length + 1);
            await stream.WriteAsync(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0, (byte)'O', (byte)'K' });
        });

        await using var tunnel = await new Socks4StreamProvider(peer.Options(ProxyKind.Socks4, "me")).ConnectAsync(Hub, CancellationToken.None);

        var ok = new byte[2];
        await tunnel.ReadExactlyAsync(ok);
        Assert.Equal("OK", Encoding.ASCII.GetString(ok));
        byte[] expected = [4, 1, 8883 >> 8, 8883 & 0xFF, 0, 0, 0, 1, .. "me"u8.ToArray(), 0, .. Encoding.ASCII.GetBytes(Hub.Host), 0];
        Assert.Equal(expected, request);
    }

    [Fact]
    public async Task Socks4_sends_an_ipv4_address_as_is_and_refuses_ipv6()
    {
        byte[]? request = null;
        await using var peer = new ScriptedPeer(async stream =>
        {
            request = await ReadAsync(stream, 9);
            await stream.WriteAsync(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0 });
        });

        await using (await new Socks4StreamProvider(peer.Options(ProxyKind.Socks4)).ConnectAsync(new IPEndPoint(IPAddress.Loopback, 8883), CancellationToken.None))
        {
            Assert.Equal(new byte[] { 4, 1, 8883 >> 8, 8883 & 0xFF, 127, 0, 0, 1, 0 }, request);
        }

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks4StreamProvider(peer.Options(ProxyKind.Socks4)).ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, 8883), CancellationToken.None));
        Assert.Equal(MqttProxyErrorCode.ProxyAddressTypeNotSupported, error.ErrorCode);
    }

    [Theory]
    [InlineData(91, MqttProxyErrorCode.ProxyConnectionNotAllowed, FailureKind.Network)]
    [InlineData(92, MqttProxyErrorCode.ProxyAuthFailed, FailureKind.ProxyUnauthorized)]
    [InlineData(93, MqttProxyErrorCode.ProxyAuthFailed, FailureKind.ProxyUnauthorized)]
    [InlineData(17, MqttProxyErrorCode.ProxyProtocolError, FailureKind.Network)]
    public async Task Socks4_replies_map_to_proxy_errors(byte reply, MqttProxyErrorCode code, FailureKind kind)
    {
        await using var peer = new ScriptedPeer(async stream =>
        {
            await ReadAsync(stream, 8 + 1 + Hub.Host.Length + 1);
            await stream.WriteAsync(new byte[] { 0, reply, 0, 0, 0, 0, 0, 0 });
        });

        var error = await Assert.ThrowsAsync<MqttProxyException>(() =>
            new Socks4StreamProvider(peer.Options(ProxyKind.Socks4)).ConnectAsync(Hub, CancellationToken.None));

        Assert.Equal(code, error.ErrorCode);
        Assert.Equal(kind, FailureKinds.FromException(error));
    }

    [Fact]
    public void Socks4_has_no_password()
    {
        Assert.Contains("SOCKS4 has no password", new ProxyOptions(ProxyKind.Socks4, "p", 1080, "u", "secret").Validate());
        Assert.Null(new ProxyOptions(ProxyKind.Socks4, "p", 1080, "u").Validate());
        Assert.Equal("socks4a://p:1080/", new ProxyOptions(ProxyKind.Socks4, "p", 1080).Address.ToString());
    }

    private static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes);
        return bytes;
    }

    private static async Task<string> ReadHttpHeaderAsync(Stream stream)
    {
        var text = new StringBuilder();
        var one = new byte[1];
        while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) == 0)
                break;
            text.Append((char)one[0]);
        }

        return text.ToString();
    }

    /// <summary>A one-connection TCP peer on a free loopback port that runs a script, then closes.</summary>
    private sealed class ScriptedPeer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _run;

        public ScriptedPeer(Func<NetworkStream, Task> script)
        {
            _listener.Start();
            _run = RunAsync(script);
        }

        public static int UnusedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        public ProxyOptions Options(ProxyKind kind, string? user = null, string? password = null) =>
            new(kind, "127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, user, password);

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _run.WaitAsync(TimeSpan.FromSeconds(10)); // a failed script fails the test here
        }

        private async Task RunAsync(Func<NetworkStream, Task> script)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            await using var stream = client.GetStream();
            await script(stream);
        }
    }
}
