using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FleetSim.HubEmulator.Faults;

namespace FleetSim.Simulator.Chaos;

/// <summary>
/// The chaos proxy: a loopback TCP relay between the devices and an existing hub that injects network faults the hub
/// itself cannot (a real IoT Hub takes no fault commands): cut connections, blackhole them (open but silent), delay
/// what the hub sends, refuse new connections, and a "restart" (every connection cut, the listener closed for a while).
/// <para>
/// Each device opens an HTTP CONNECT tunnel (<c>CONNECT host:port</c> plus a <c>FleetSim-Device</c> header naming the
/// device, <see cref="DeviceActors.Proxy.HttpConnectStreamProvider.DeviceHeader"/>); after the 200 answer the proxy relays
/// bytes both ways and never looks inside: TLS runs end to end, the device still checks the hub's certificate and host
/// name. Knowing the device of each tunnel is what lets a fault hit a fraction, a group or an id pattern of devices.
/// Only the hub's own endpoints may be named in a CONNECT (it is not an open proxy).
/// </para>
/// <para>
/// Memory per tunnel is bounded: a direction waits for data with a zero-byte read before it rents a buffer, and holds at
/// most <see cref="QueuedChunks"/> chunks of <see cref="ChunkBytes"/> while they wait (latency) or the other side is slow.
/// </para>
/// </summary>
public sealed class ChaosProxy : IAsyncDisposable
{
    /// <summary>Bytes read at once per direction.</summary>
    public const int ChunkBytes = 8 * 1024;

    /// <summary>Chunks one direction may hold before it stops reading (back-pressure instead of growth).</summary>
    public const int QueuedChunks = 8;

    private const int MaxRequestBytes = 8 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly HashSet<string> _upstreams;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<long, Tunnel> _tunnels = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly IPEndPoint _bound;
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;
    private ITimer? _upTimer;
    private long _nextId;
    private long _refuseUntilTicks;
    private FaultTarget _refuseTarget = FaultTarget.Everyone;
    private long _latencyTicks;
    private long _jitterTicks;
    private long _latencyUntilTicks;
    private FaultTarget _latencyTarget = FaultTarget.Everyone;
    private long _cut;
    private long _refused;
    private long _blackholed;

    private ChaosProxy(IEnumerable<DnsEndPoint> upstreams, TimeProvider time, int? seed)
    {
        _upstreams = new HashSet<string>(upstreams.Select(Key), StringComparer.OrdinalIgnoreCase);
        _time = time;
        _random = seed is { } s ? new Random(s) : new Random();
        _listener = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        _bound = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = AcceptLoopAsync(_listener);
    }

    /// <summary>Starts a proxy on a free loopback port that relays to <paramref name="upstreams"/> (the hub's MQTT endpoints) only.</summary>
    /// <param name="time">The clock of fault periods and latency (a fake one in tests).</param>
    /// <param name="seed">Seeds the choice of the devices a fraction hits.</param>
    public static ChaosProxy Start(IEnumerable<DnsEndPoint> upstreams, TimeProvider? time = null, int? seed = null) =>
        new(upstreams, time ?? TimeProvider.System, seed);

    /// <summary>Where devices connect: 127.0.0.1 and the proxy's port.</summary>
    public DnsEndPoint EndPoint => new(_bound.Address.ToString(), _bound.Port);

    /// <summary>Tunnels open now.</summary>
    public int OpenTunnels => _tunnels.Count;

    /// <summary>Tunnels cut by cut and restart faults so far.</summary>
    public long Cut => Interlocked.Read(ref _cut);

    /// <summary>New tunnels refused (reset before they were relayed) so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Tunnels silenced by blackhole faults so far.</summary>
    public long Blackholed => Interlocked.Read(ref _blackholed);

    /// <summary>The devices with an open tunnel now (each once).</summary>
    public IReadOnlyList<string> ConnectedDeviceIds() => [.. _tunnels.Values.Select(static t => t.DeviceId).Distinct(StringComparer.Ordinal)];

    /// <summary>Cuts (resets) every tunnel of a random <paramref name="fraction"/> of the targeted devices; returns those devices.</summary>
    public IReadOnlyList<string> CutDevices(double fraction, FaultTarget? target = null)
    {
        var chosen = Choose(fraction, target);
        CutWhere(chosen.Contains);
        return chosen;
    }

    /// <summary>Cuts (resets) every tunnel of <paramref name="deviceId"/>; false if it had none.</summary>
    public bool CutDevice(string deviceId) => CutWhere(id => id == deviceId) > 0;

    /// <summary>Keeps the tunnels of a random <paramref name="fraction"/> of the targeted devices open but silent (nothing relayed) for <paramref name="duration"/>.</summary>
    public IReadOnlyList<string> Blackhole(double fraction, TimeSpan duration, FaultTarget? target = null)
    {
        CheckPeriod(duration);
        var chosen = Choose(fraction, target);
        var until = (_time.GetUtcNow() + duration).UtcTicks;
        foreach (var tunnel in _tunnels.Values)
        {
            if (chosen.Contains(tunnel.DeviceId))
            {
                tunnel.SilenceUntil(until);
                Interlocked.Increment(ref _blackholed);
            }
        }

        return chosen;
    }

    /// <summary>Resets every new tunnel of the targeted devices (before any byte reaches the hub) for <paramref name="duration"/>.</summary>
    public void Refuse(TimeSpan duration, FaultTarget? target = null)
    {
        CheckPeriod(duration);
        lock (_gate)
        {
            _refuseTarget = target ?? FaultTarget.Everyone;
            _refuseUntilTicks = (_time.GetUtcNow() + duration).UtcTicks;
        }
    }

    /// <summary>Holds what the hub sends to the targeted devices back by <paramref name="by"/> ± <paramref name="jitter"/> for <paramref name="duration"/> (order kept).</summary>
    public void AddLatency(TimeSpan by, TimeSpan jitter, TimeSpan duration, FaultTarget? target = null)
    {
        if (by < TimeSpan.Zero || jitter < TimeSpan.Zero || jitter > by)
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "latency and jitter must be at least 0, and jitter at most the latency");
        CheckPeriod(duration);
        lock (_gate)
        {
            _latencyTarget = target ?? FaultTarget.Everyone;
            _latencyTicks = by.Ticks;
            _jitterTicks = jitter.Ticks;
            _latencyUntilTicks = (_time.GetUtcNow() + duration).UtcTicks;
        }
    }

    /// <summary>A hub restart as the network sees it: every tunnel cut and the listener closed (connects refused by the OS) for <paramref name="down"/>.</summary>
    public IReadOnlyList<string> Restart(TimeSpan down)
    {
        CheckPeriod(down);
        lock (_gate)
        {
            _upTimer?.Dispose();
            var listener = _listener;
            _listener = null;
            listener?.Dispose(); // the accept loop ends with it
            _upTimer = _time.CreateTimer(static s => ((ChaosProxy)s!).Reopen(), this, down, Timeout.InfiniteTimeSpan);
        }

        var ids = ConnectedDeviceIds();
        CutWhere(static _ => true);
        return ids;
    }

    /// <summary>Whether the listener is closed (a restart is under way).</summary>
    public bool IsDown
    {
        get
        {
            lock (_gate)
                return _listener is null;
        }
    }

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

    private bool IsRefused(string deviceId)
    {
        lock (_gate)
            return _time.GetUtcNow().UtcTicks < _refuseUntilTicks && _refuseTarget.Matches(deviceId);
    }

    /// <summary>When a chunk the hub sent to <paramref name="deviceId"/> now may be passed on (ticks of <see cref="_time"/>); 0 for at once.</summary>
    private long ReleaseTicks(string deviceId)
    {
        var now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            if (now >= _latencyUntilTicks || !_latencyTarget.Matches(deviceId))
                return 0;
            var jitter = _jitterTicks == 0 ? 0 : (long)((_random.NextDouble() * 2 - 1) * _jitterTicks);
            return now + _latencyTicks + jitter;
        }
    }

    private List<string> Choose(double fraction, FaultTarget? target)
    {
        if (double.IsNaN(fraction) || fraction is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be between 0 and 1");
        target ??= FaultTarget.Everyone;
        var candidates = ConnectedDeviceIds().Where(target.Matches).Order(StringComparer.Ordinal).ToArray();
        var count = (int)Math.Round(candidates.Length * fraction, MidpointRounding.AwayFromZero);
        lock (_gate)
            _random.Shuffle(candidates);
        return [.. candidates.Take(count)];
    }

    private int CutWhere(Func<string, bool> hit)
    {
        var cut = 0;
        foreach (var tunnel in _tunnels.Values)
        {
            if (hit(tunnel.DeviceId))
            {
                tunnel.Abort();
                cut++;
            }
        }

        Interlocked.Add(ref _cut, cut);
        return cut;
    }

    private static void CheckPeriod(TimeSpan period)
    {
        if (period <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(period), period, "a fault period must be positive");
    }

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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _upTimer?.Dispose();
            _listener?.Dispose();
            _listener = null;
        }

        foreach (var tunnel in _tunnels.Values)
            tunnel.Abort();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>One device's tunnel: two sockets and a relay each way.</summary>
    private sealed class Tunnel(ChaosProxy proxy, long id, string deviceId, Socket device, Socket hub)
    {
        private readonly CancellationTokenSource _abort = new();
        private long _silentUntilTicks;

        public long Id { get; } = id;

        public string DeviceId { get; } = deviceId;

        public void SilenceUntil(long ticks) => Interlocked.Exchange(ref _silentUntilTicks, ticks);

        /// <summary>Ends the tunnel after a failure of one direction: the other stops too, both sockets close.</summary>
        public void Fail()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // already finished
            }
        }

        public void Abort()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
                return; // already finished
            }

            Reset(device);
            Reset(hub);
        }

        public async Task RunAsync()
        {
            try
            {
                // Either direction failing (a reset, a cut) ends both (Fail); an orderly end of one direction waits for the other.
                var up = new Relay(this, device, hub, delayed: false).RunAsync(_abort.Token);
                var down = new Relay(this, hub, device, delayed: true).RunAsync(_abort.Token);
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // the tunnel is over either way
            }
            finally
            {
                device.Dispose();
                hub.Dispose();
                _abort.Dispose();
            }
        }

        /// <summary>Waits while the tunnel is blackholed.</summary>
        public async Task WaitWhileSilentAsync(CancellationToken ct)
        {
            while (proxy._time.GetUtcNow().UtcTicks is var now && now < Interlocked.Read(ref _silentUntilTicks))
                await Task.Delay(TimeSpan.FromTicks(Interlocked.Read(ref _silentUntilTicks) - now), proxy._time, ct).ConfigureAwait(false);
        }

        public async Task WaitUntilAsync(long ticks, CancellationToken ct)
        {
            while (proxy._time.GetUtcNow().UtcTicks is var now && now < ticks)
                await Task.Delay(TimeSpan.FromTicks(ticks - now), proxy._time, ct).ConfigureAwait(false);
        }

        public long ReleaseTicks() => proxy.ReleaseTicks(DeviceId);
    }

    /// <summary>One direction: a reader that fills a bounded queue of chunks and a writer that passes them on when they are due.</summary>
    private sealed class Relay(Tunnel tunnel, Socket from, Socket to, bool delayed)
    {
        private readonly System.Threading.Channels.Channel<(byte[] Buffer, int Length, long Release)> _queue =
            System.Threading.Channels.Channel.CreateBounded<(byte[], int, long)>(new System.Threading.Channels.BoundedChannelOptions(QueuedChunks)
            {
                SingleReader = true,
                SingleWriter = true,
            });

        public Task RunAsync(CancellationToken ct) => Task.WhenAll(ReadAsync(ct), WriteAsync(ct));

        private async Task ReadAsync(CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                    // Wait for data without holding a buffer: an idle tunnel costs no buffer memory.
                    await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).ConfigureAwait(false);
                    await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkBytes);
                    int read;
                    try
                    {
                        read = await from.ReceiveAsync(buffer.AsMemory(0, ChunkBytes), SocketFlags.None, ct).ConfigureAwait(false);
                    }
                    catch
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        throw;
                    }

                    if (read == 0)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        break;
                    }

                    await _queue.Writer.WriteAsync((buffer, read, delayed ? tunnel.ReleaseTicks() : 0), ct).ConfigureAwait(false);
                }

                _queue.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _queue.Writer.TryComplete(e);
                tunnel.Fail();
                throw;
            }
        }

        private async Task WriteAsync(CancellationToken ct)
        {
            var last = 0L;
            try
            {
                await foreach (var (buffer, length, release) in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    try
                    {
                        // Never before an earlier chunk: TCP keeps order, so jitter may stretch gaps but never reorder.
                        last = Math.Max(last, release);
                        await tunnel.WaitUntilAsync(last, ct).ConfigureAwait(false);
                        await tunnel.WaitWhileSilentAsync(ct).ConfigureAwait(false);
                        var sent = 0;
                        while (sent < length)
                            sent += await to.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }

                to.Shutdown(SocketShutdown.Send); // pass the orderly end on
            }
            catch
            {
                tunnel.Fail();
                throw;
            }
            finally
            {
                while (_queue.Reader.TryRead(out var left))
                    System.Buffers.ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }
}
