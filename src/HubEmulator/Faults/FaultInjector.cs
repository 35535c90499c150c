using FleetSim.HubEmulator.Mqtt;

namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// Fault primitives for soak and resilience tests, callable from code and from <c>POST /fleetsim/faults/…</c>:
/// drop connections, restart the hub (connections dropped, listeners down: connects refused by the OS), blackhole
/// connections (open but silent), expire SAS tokens, add latency to every hub answer, refuse connects (CONNACK 3),
/// fail twin operations and delay acknowledgements. Every fault may be limited to a <see cref="FaultTarget"/>;
/// the ones that cut connections return a <see cref="FaultOutcome"/> naming the devices hit. Each is counted.
/// </summary>
public sealed partial class FaultInjector
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Random _random;
    private IConnectionControl? _connections;
    private ConnectionFaults? _transport;
    private ListenerSwitch? _listeners;
    private long _downUntilTicks;
    private ITimer? _upTimer;
    private TaskCompletionSource _changed = NewSignal();
    private long _twinFailures;
    private long _dropped;
    private long _refused;
    private long _blackholed;
    private long _tokensExpired;
    private long _restarts;

    internal FaultInjector(TimeProvider time, int? seed = null)
    {
        _time = time;
        _random = seed is { } s ? new Random(s) : new Random();
    }

    /// <summary>Connections cut by drop and hub-restart faults so far.</summary>
    public long DroppedConnections => Interlocked.Read(ref _dropped);

    /// <summary>CONNECTs refused with CONNACK 3 so far.</summary>
    public long RefusedConnects => Interlocked.Read(ref _refused);

    /// <summary>Connections silenced by blackhole faults so far.</summary>
    public long BlackholedConnections => Interlocked.Read(ref _blackholed);

    /// <summary>Connections closed because the expireTokens fault revoked their token.</summary>
    public long ExpiredTokens => Interlocked.Read(ref _tokensExpired);

    /// <summary>Hub restarts so far.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Whether the listeners are down (a hub restart is under way).</summary>
    public bool IsDown => Now.UtcTicks < Interlocked.Read(ref _downUntilTicks);

    /// <summary>Twin operations failed by injection so far.</summary>
    public long FailedTwinOperations => Interlocked.Read(ref _twinFailures);

    internal DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Closes every device connection; returns how many were closed.</summary>
    public Task<int> DropAllAsync() => DropFractionAsync(1.0);

    /// <summary>Closes a random <paramref name="fraction"/> (0..1) of the device connections; returns how many were closed.</summary>
    public async Task<int> DropFractionAsync(double fraction) => (await DropAsync(fraction, null).ConfigureAwait(false)).Affected;

    /// <summary>Closes a random <paramref name="fraction"/> (0..1) of the connections of the targeted devices.</summary>
    public async Task<FaultOutcome> DropAsync(double fraction, FaultTarget? target)
    {
        var start = Now;
        var dropped = await DisconnectAsync(Choose(fraction, target), DisconnectReason.FaultInjected).ConfigureAwait(false);
        Interlocked.Add(ref _dropped, dropped.Count);
        return new FaultOutcome("drop", start, null, dropped);
    }

    /// <summary>Closes one device's connection; false if it was not connected.</summary>
    public async Task<bool> DropDeviceAsync(string deviceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        var closed = await Connections.DisconnectAsync(deviceId, DisconnectReason.FaultInjected).ConfigureAwait(false);
        if (closed)
        {
            Interlocked.Increment(ref _dropped);
        }

        return closed;
    }

    /// <summary>
    /// A hub restart: the listeners close first (connects are refused by the operating system, not with CONNACK),
    /// then every device connection is dropped; after <paramref name="down"/> the hub listens again on the same
    /// ports. Registry, twins and sessions are kept, as a real restart keeps them.
    /// </summary>
    public async Task<FaultOutcome> RestartAsync(TimeSpan down)
    {
        CheckPeriod(down, nameof(down));
        var listeners = _listeners ?? throw new InvalidOperationException("The emulator is not running.");
        var start = Now;
        lock (_gate)
        {
            Interlocked.Exchange(ref _downUntilTicks, (start + down).UtcTicks);
            _upTimer?.Dispose();
            _upTimer = _time.CreateTimer(static s => _ = ((FaultInjector)s!)._listeners!.UpAsync(), this, down, Timeout.InfiniteTimeSpan);
        }

        await listeners.DownAsync().ConfigureAwait(false);
        if (!IsDown)
        {
            await ComeBackUpAsync().ConfigureAwait(false); // the period ended while the listeners were closing
        }

        var dropped = await DisconnectAsync(Choose(1.0, null), DisconnectReason.FaultInjected).ConfigureAwait(false);
        Interlocked.Add(ref _dropped, dropped.Count);
        Interlocked.Increment(ref _restarts);
        return new FaultOutcome("hub-restart", start, start + down, dropped);
    }

    /// <summary>
    /// Silences a random <paramref name="fraction"/> of the targeted devices' connections for <paramref name="duration"/>:
    /// they stay open but the hub neither reads from them nor answers (no PINGRESP, no PUBACK), so devices notice only
    /// through their keep-alive and operation timeouts. What waited flows once the period ends.
    /// </summary>
    public Task<FaultOutcome> BlackholeAsync(double fraction, TimeSpan duration, FaultTarget? target)
    {
        CheckFraction(fraction, nameof(fraction));
        CheckPeriod(duration, nameof(duration));
        var transport = _transport ?? throw new InvalidOperationException("The emulator is not running.");
        var start = Now;
        var until = start + duration;
        var byDevice = transport.DeviceConnections();
        var silenced = new List<string>();
        foreach (var id in Choose(fraction, target))
        {
            if (byDevice.TryGetValue(id, out var connection))
            {
                connection.Silence(until);
                silenced.Add(id);
            }
        }

        Interlocked.Add(ref _blackholed, silenced.Count);
        Signal();
        return Task.FromResult(new FaultOutcome("blackhole", start, until, silenced));
    }

    /// <summary>
    /// Treats the current SAS tokens of a random <paramref name="fraction"/> of the targeted, connected devices as
    /// expired: their connections close (reason sasTokenExpired) and a CONNECT with the same token, or any token that
    /// expires no later, is refused as expired (CONNACK 5). Devices must renew their token to come back.
    /// </summary>
    public async Task<FaultOutcome> ExpireTokensAsync(double fraction, FaultTarget? target)
    {
        var start = Now;
        var chosen = Choose(fraction, target);
        var tasks = new Task<bool>[chosen.Count];
        for (var i = 0; i < chosen.Count; i++)
        {
            tasks[i] = Connections.ExpireTokenAsync(chosen[i]);
        }

        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        var expired = new List<string>(chosen.Count);
        for (var i = 0; i < chosen.Count; i++)
        {
            if (results[i])
            {
                expired.Add(chosen[i]);
            }
        }

        Interlocked.Add(ref _tokensExpired, expired.Count);
        return new FaultOutcome("expire-tokens", start, null, expired);
    }

    internal void Attach(IConnectionControl connections) => _connections = connections;

    internal void Attach(ConnectionFaults transport, ListenerSwitch listeners)
    {
        _transport = transport;
        _listeners = listeners;
    }

    private async Task ComeBackUpAsync()
    {
        if (IsDown || _listeners is not { } listeners)
        {
            return;
        }

        await listeners.UpAsync().ConfigureAwait(false);
    }

    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A random <paramref name="fraction"/> of the connected devices the target allows.</summary>
    private List<string> Choose(double fraction, FaultTarget? target)
    {
        CheckFraction(fraction, nameof(fraction));
        target ??= FaultTarget.Everyone;
        var ids = Connections.ConnectedDeviceIds();
        var candidates = target.IsEveryone ? [.. ids] : ids.Where(target.Matches).ToArray();
        var count = (int)Math.Round(candidates.Length * fraction, MidpointRounding.AwayFromZero);
        lock (_gate)
        {
            _random.Shuffle(candidates);
        }

        return [.. candidates.Take(count)];
    }

    private async Task<List<string>> DisconnectAsync(List<string> ids, DisconnectReason reason)
    {
        var tasks = new Task<bool>[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            tasks[i] = Connections.DisconnectAsync(ids[i], reason);
        }

        var closed = await Task.WhenAll(tasks).ConfigureAwait(false);
        var dropped = new List<string>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            if (closed[i])
            {
                dropped.Add(ids[i]);
            }
        }

        return dropped;
    }

    private static void CheckFraction(double fraction, string name)
    {
        if (double.IsNaN(fraction) || fraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(name, fraction, "fraction must be between 0 and 1.");
        }
    }

    private static void CheckPeriod(TimeSpan period, string name)
    {
        if (period < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, period, $"{(name == "down" ? "duration" : name)} must not be negative.");
        }
    }

    private IConnectionControl Connections =>
        _connections ?? throw new InvalidOperationException("The emulator is not running.");
}
