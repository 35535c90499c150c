using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FleetSim.DeviceActors.Proxy;

namespace FleetSim.DeviceActors.Tests.Proxy;

/// <summary>
/// A real proxy on 127.0.0.1 (a free port): HTTP CONNECT (Basic authentication, 407 with a challenge, further
/// requests on the same connection), SOCKS5 (no authentication or RFC 1929 user/password) or SOCKS4/4a (user id). It pipes bytes both
/// ways and counts what it did, so tests can prove a connection really went through it.
/// </summary>
public sealed class TestProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly string? _user;
    private readonly string? _password;
    private readonly Task _acceptLoop;
    private int _tunnels;
    private int _refusals;
    private int _connections;

    public TestProxy(ProxyKind kind, string? requiredUser = null, string? requiredPassword = null)
    {
        Kind = kind;
        _user = requiredUser;
        _password = requiredPassword;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public ProxyKind Kind { get; }

    public int Port { get; }

    /// <summary>Tunnels opened (after authentication and a successful connect to the destination).</summary>
    public int Tunnels => Volatile.Read(ref _tunnels);

    /// <summary>Handshakes refused for missing or wrong credentials.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>TCP connections accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Destinations asked for, as "host:port" (the host as the client sent it: a name or an address).</summary>
    public ConcurrentQueue<string> Destinations { get; } = new();

    /// <summary>Options pointing at this proxy with the given credentials.</summary>
    public ProxyOptions Options(string? user = null, string? password = null) => new(Kind, "127.0.0.1", Port, user, password);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _open.Keys)
            socket.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _connections);
            _handlers.Add(Task.Run(() => HandleAsync(client)));
        }
    }

    private async Task HandleAsync(Socket client)
    {
        _open[client] = 0;
        Socket? target = null;
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            target = Kind switch
            {
                ProxyKind.Http => await HttpHandshakeAsync(stream),
                ProxyKind.Socks4 => await Socks4HandshakeAsync(stream),
                _ => await SocksHandshakeAsync(stream),
            };
            if (target is null)
                return;
            _open[target] = 0;
            await using var upstream = new NetworkStream(target, ownsSocket: false);
            var up = stream.CopyToAsync(upstream, _stop.Token);
            var down = upstream.CopyToAsync(stream, _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // a side closed or the proxy is stopping
        }
        finally
        {
            _open.TryRemove(client, out _);
            client.Dispose();
            if (target is not null)
            {
                _open.TryRemove(target, out _);
                target.Dispose();
            }
        }
    }

    private async Task<Socket?> HttpHandshakeAsync(NetworkStream stream)
    {
        while (true)
        {
            var header = await ReadHeaderAsync(stream);
            if (header is null)
                return null;
            var lines = header.Split("\r\n");
            var request = lines[0].Split(' ');
            if (request.Length != 3 || request[0] != "CONNECT")
            {
                await WriteAsync(stream, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                return null;
            }

            if (_user is not null)
            {
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_user}:{_password}"));
                var given = lines.FirstOrDefault(l => l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))?[20..].Trim();
                if (given != expected)
                {
                    Interlocked.Increment(ref _refusals);
                    await WriteAsync(stream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"fleetsim\"\r\nContent-Length: 0\r\n\r\n");
                    continue; // the client may answer the challenge on the same connection
                }
            }

            Destinations.Enqueue(request[1]);
            var separator = request[1].LastIndexOf(':');
            var target = await ConnectAsync(request[1][..separator].Trim('[', ']'), int.Parse(request[1][(separator + 1)..]));
            if (target is null)
            {
                await WriteAsync(stream, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                return null;
            }

            Interlocked.Increment(ref _tunnels);
            await WriteAsync(stream, "HTTP/1.1 200 Connection established\r\n\r\n");
            return target;
        }
    }

    private async Task<Socket?> SocksHandshakeAsync(NetworkStream stream)
    {
        var buffer = new byte[512];
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 2), _stop.Token);
        if (buffer[0] != 5)
            return null;
        var methods = buffer.AsMemory(2, buffer[1]);
        await stream.ReadExactlyAsync(methods, _stop.Token);
        var wanted = _user is null ? (byte)0 : (byte)2;
        if (!methods.Span.Contains(wanted))
        {
            Interlocked.Increment(ref _refusals);
            await stream.WriteAsync(new byte[] { 5, 0xFF }, _stop.Token);
            return null;
        }

        await stream.WriteAsync(new byte[] { 5, wanted }, _stop.Token);
        if (_user is not null)
        {
            await stream.ReadExactlyAsync(buffer.AsMemory(0, 2), _stop.Token);
            var user = await ReadStringAsync(stream, buffer[1]);
            await stream.ReadExactlyAsync(buffer.AsMemory(0, 1), _stop.Token);
            var password = await ReadStringAsync(stream, buffer[0]);
            var ok = user == _user && password == _password;
            await stream.WriteAsync(new byte[] { 1, ok ? (byte)0 : (byte)1 }, _stop.Token);
            if (!ok)
            {
                Interlocked.Increment(ref _refusals);
                return null;
            }
        }

        await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), _stop.Token);
        string host;
        switch (buffer[3])
        {
            case 1:
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), _stop.Token);
                host = new IPAddress(buffer.AsSpan(0, 4)).ToString();
                break;
            case 4:
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 16), _stop.Token);
                host = new IPAddress(buffer.AsSpan(0, 16)).ToString();
                break;
            default:
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 1), _stop.Token);
                host = await ReadStringAsync(stream, buffer[0]);
                break;
        }

        await stream.ReadExactlyAsync(buffer.AsMemory(0, 2), _stop.Token);
        var port = (buffer[0] << 8) | buffer[1];
        Destinations.Enqueue($"{host}:{port}");
        var target = await ConnectAsync(host, port);
        if (target is null)
        {
            await stream.WriteAsync(new byte[] { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 }, _stop.Token);
            return null;
        }

        Interlocked.Increment(ref _tunnels);
        await stream.WriteAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 }, _stop.Token);
        return target;
    }

    /// <summary>SOCKS4 and 4a: VN 4, CD 1, port, address, user id NUL, and for 0.0.0.x a host name NUL; reply 8 bytes.</summary>
    private async Task<Socket?> Socks4HandshakeAsync(NetworkStream stream)
    {
        var head = new byte[8];
        await stream.ReadExactlyAsync(head, _stop.Token);
        if (head[0] != 4 || head[1] != 1)
            return null;
        var port = (head[2] << 8) | head[3];
        var userId = await ReadNulTerminatedAsync(stream);
        var host = head[4] == 0 && head[5] == 0 && head[6] == 0 && head[7] != 0
            ? await ReadNulTerminatedAsync(stream)
            : new IPAddress(head.AsSpan(4, 4)).ToString();
        if (_user is not null && userId != _user)
        {
            Interlocked.Increment(ref _refusals);
            await stream.WriteAsync(new byte[] { 0, 93, 0, 0, 0, 0, 0, 0 }, _stop.Token); // identd disagrees with the user id
            return null;
        }

        Destinations.Enqueue($"{host}:{port}");
        var target = await ConnectAsync(host, port);
        if (target is null)
        {
            await stream.WriteAsync(new byte[] { 0, 91, 0, 0, 0, 0, 0, 0 }, _stop.Token);
            return null;
        }

        Interlocked.Increment(ref _tunnels);
        await stream.WriteAsync(new byte[] { 0, 90, 0, 0, 0, 0, 0, 0 }, _stop.Token);
        return target;
    }

    private async Task<string> ReadNulTerminatedAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one, _stop.Token);
            if (one[0] == 0)
                return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add(one[0]);
        }
    }

    private async Task<Socket?> ConnectAsync(string host, int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, _stop.Token);
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    private async Task<string> ReadStringAsync(NetworkStream stream, int length)
    {
        var bytes = new byte[length];
        await stream.ReadExactlyAsync(bytes, _stop.Token);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The request header without its final empty line, or null when the client closed first.</summary>
    private async Task<string?> ReadHeaderAsync(NetworkStream stream)
    {
        var header = new List<byte>();
        var one = new byte[1];
        while (header.Count < 4 || header[^1] != '\n' || header[^2] != '\r' || header[^3] != '\n' || header[^4] != '\r')
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
                return null;
            header.Add(one[0]);
        }

        return Encoding.Latin1.GetString(header.ToArray(), 0, header.Count - 4);
    }

    private Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token).AsTask();
}
