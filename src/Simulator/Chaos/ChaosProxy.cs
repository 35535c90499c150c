using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
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
public sealed partial class ChaosProxy : IAsyncDisposable
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
    private readonly TimedFault<bool> _refusal = new();
    private readonly TimedFault<Latency> _latency = new();
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
        _refusal.Start(_time.GetUtcNow(), duration, true, target);
    }

    /// <summary>Holds what the hub sends to the targeted devices back by <paramref name="by"/> ± <paramref name="jitter"/> for <paramref name="duration"/> (order kept).</summary>
    public void AddLatency(TimeSpan by, TimeSpan jitter, TimeSpan duration, FaultTarget? target = null)
    {
        if (by < TimeSpan.Zero || jitter < TimeSpan.Zero || jitter > by)
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "latency and jitter must be at least 0, and jitter at most the latency");
        CheckPeriod(duration);
        _latency.Start(_time.GetUtcNow(), duration, new Latency(by, jitter), target);
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

    private bool IsRefused(string deviceId) => _refusal.Hits(deviceId, _time.GetUtcNow());

    /// <summary>When a chunk the hub sent to <paramref name="deviceId"/> now may be passed on (ticks of <see cref="_time"/>); 0 for at once.</summary>
    private long ReleaseTicks(string deviceId)
    {
        var now = _time.GetUtcNow();
        if (!_latency.Hits(deviceId, now, out var latency))
            return 0;
        if (latency.Jitter == TimeSpan.Zero)
            return (now + latency.By).UtcTicks;
        double unit;
        lock (_gate)
            unit = _random.NextDouble();
        return (now + latency.At(unit)).UtcTicks;
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
}
