using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FleetSim.Simulator.Chaos;

/// <summary>The proxy's listener and the CONNECT handshake that opens each device's tunnel.</summary>
public sealed partial class ChaosProxy
{
    private void Reopen()
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested || _listener is not null)
                return;
            try
            {
                _listener = Listen(_bound);
                _accepting = AcceptLoopAsync(_listener);
            }
            catch (SocketException)
            {
                // The port is busy for a moment (another socket took it): try again shortly rather than stay down.
                _upTimer?.Dispose();
                _upTimer = _time.CreateTimer(static s => ((ChaosProxy)s!).Reopen(), this, TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private static Socket Listen(IPEndPoint at)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // reopen on the same port after a restart
            socket.Bind(at);
            socket.Listen(1024);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return; // closed by a restart or by dispose
            }

            client.NoDelay = true;
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        Socket? upstream = null;
        try
        {
            using var timeout = new CancellationTokenSource(RequestTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stop.Token);
            var (target, deviceId, error) = await ReadRequestAsync(client, linked.Token).ConfigureAwait(false);
            if (error is not null)
            {
                await AnswerAsync(client, error, linked.Token).ConfigureAwait(false);
                client.Dispose();
                return;
            }

            if (IsRefused(deviceId!))
            {
                Interlocked.Increment(ref _refused);
                Reset(client);
                return;
            }

            upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await upstream.ConnectAsync(target!, linked.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                await AnswerAsync(client, $"502 Bad Gateway ({e.SocketErrorCode})", linked.Token).ConfigureAwait(false);
                upstream.Dispose();
                client.Dispose();
                return;
            }

            await AnswerAsync(client, "200 Connection established", linked.Token).ConfigureAwait(false);
            var tunnel = new Tunnel(this, Interlocked.Increment(ref _nextId), deviceId!, client, upstream);
            _tunnels[tunnel.Id] = tunnel;
            await tunnel.RunAsync().ConfigureAwait(false);
            _tunnels.TryRemove(tunnel.Id, out _);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            upstream?.Dispose();
            client.Dispose();
        }
    }

    /// <summary>Reads <c>CONNECT host:port HTTP/1.1</c> and its headers; the target must be one of the hub's endpoints and the device named.</summary>
    private async Task<(DnsEndPoint? Target, string? DeviceId, string? Error)> ReadRequestAsync(Socket client, CancellationToken ct)
    {
        var header = new byte[MaxRequestBytes];
        var length = 0;
        while (true)
        {
            // One byte at a time: nothing after the header (the TLS ClientHello) may be consumed here.
            if (await client.ReceiveAsync(header.AsMemory(length, 1), SocketFlags.None, ct).ConfigureAwait(false) == 0)
                throw new IOException("closed during the request");
            length++;
            if (length >= 4 && header[length - 1] == '\n' && header[length - 2] == '\r' && header[length - 3] == '\n' && header[length - 4] == '\r')
                break;
            if (length == header.Length)
                return (null, null, "431 Request Header Fields Too Large");
        }

        var lines = Encoding.Latin1.GetString(header, 0, length).Split("\r\n");
        var request = lines[0].Split(' ');
        if (request.Length != 3 || request[0] != "CONNECT" || !request[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return (null, null, "405 Method Not Allowed");
        var colon = request[1].LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(request[1].AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return (null, null, "400 Bad Request");
        var target = new DnsEndPoint(request[1][..colon].Trim('[', ']'), port);
        if (!_upstreams.Contains(Key(target)))
            return (null, null, "403 Forbidden");
        foreach (var line in lines.AsSpan(1))
        {
            var separator = line.IndexOf(':', StringComparison.Ordinal);
            if (separator > 0 && line.AsSpan(0, separator).Trim().Equals(DeviceActors.Proxy.HttpConnectStreamProvider.DeviceHeader, StringComparison.OrdinalIgnoreCase)
                && line[(separator + 1)..].Trim() is { Length: > 0 } id)
                return (target, id, null);
        }

        return (null, null, "400 Bad Request (no " + DeviceActors.Proxy.HttpConnectStreamProvider.DeviceHeader + " header)");
    }

    private static async Task AnswerAsync(Socket client, string status, CancellationToken ct) =>
        await client.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n\r\n"), SocketFlags.None, ct).ConfigureAwait(false);

    private static string Key(DnsEndPoint endPoint) => endPoint.Host + ":" + endPoint.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Closes with a reset (linger 0): the peer sees the connection torn, not an orderly end.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already gone
        }

        socket.Dispose();
    }
}
