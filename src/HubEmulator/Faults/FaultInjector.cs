using FleetSim.HubEmulator.Mqtt;

namespace FleetSim.HubEmulator.Faults;

/// <summary>The MQTT front end as the fault injector sees it: who is connected, and ways to cut one connection.</summary>
internal interface IConnectionControl
{
    IReadOnlyList<string> ConnectedDeviceIds();

    Task<bool> DisconnectAsync(string deviceId, DisconnectReason reason);

    /// <summary>Revokes the device's current SAS token (and older ones) and closes its connection; false if it had none.</summary>
    Task<bool> ExpireTokenAsync(string deviceId);
}

/// <summary>
/// Fault primitives for soak and resilience tests, callable from code and from <c>POST /fleetsim/faults/…</c>:
/// drop connections, restart the hub (connections dropped, listeners down: connects refused by the OS), blackhole
/// connections (open but silent), expire SAS tokens, add latency to every hub answer, refuse connects (CONNACK 3),
/// fail twin operations and delay acknowledgements. Every fault may be limited to a <see cref="FaultTarget"/>;
/// the ones that cut connections return a <see cref="FaultOutcome"/> naming the devices hit. Each is counted.
/// </summary>
public sealed class FaultInjector
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Random _random;
    private IConnectionControl? _connections;
    private ConnectionFaults? _transport;
    private ListenerSwitch? _listeners;
    private long _refuseUntilTicks;
    private FaultTarget _refuseTarget = FaultTarget.Everyone;
    private long _ackDelayTicks;
    private long _ackDelayUntilTicks;
    private FaultTarget _ackDelayTarget = FaultTarget.Everyone;
    private long _twinFailUntilTicks;
    private int _twinFailStatus;
    private double _twinFailRatio;
    private FaultTarget _twinFailTarget = FaultTarget.Everyone;
    private long _latencyTicks;
    private long _latencyJitterTicks;
    private long _latencyUntilTicks;
    private FaultTarget _latencyTarget = FaultTarget.Everyone;
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

    /// <summary>
    /// Holds every answer the hub sends to the targeted devices (CONNACK, SUBACK, PUBACK, PINGRESP, twin and method
    /// messages; with no target also the HTTPS API) back by <paramref name="by"/> ± <paramref name="jitter"/> for
    /// <paramref name="duration"/>. Answers on one connection keep their order.
    /// </summary>
    public FaultOutcome AddLatency(TimeSpan by, TimeSpan jitter, TimeSpan duration, FaultTarget? target = null)
    {
        if (by < TimeSpan.Zero || by > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "latency must be between 0 and 5 minutes.");
        }

        if (jitter < TimeSpan.Zero || jitter > by)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "jitter must be between 0 and the latency.");
        }

        CheckPeriod(duration, nameof(duration));
        var start = Now;
        lock (_gate)
        {
            _latencyTarget = target ?? FaultTarget.Everyone;
            Interlocked.Exchange(ref _latencyTicks, by.Ticks);
            Interlocked.Exchange(ref _latencyJitterTicks, jitter.Ticks);
            Interlocked.Exchange(ref _latencyUntilTicks, (start + duration).UtcTicks);
        }

        return new FaultOutcome("latency", start, start + duration, []);
    }

    /// <summary>
    /// Answers every CONNECT (or only <paramref name="deviceId"/>'s) with CONNACK 3 Server unavailable for
    /// <paramref name="duration"/>; a zero duration ends the refusal.
    /// </summary>
    public void RefuseConnects(TimeSpan duration, string? deviceId = null) =>
        RefuseConnects(duration, deviceId is null ? null : FaultTarget.Of([deviceId]));

    /// <summary>Answers the targeted devices' CONNECTs with CONNACK 3 Server unavailable for <paramref name="duration"/>.</summary>
    public FaultOutcome RefuseConnects(TimeSpan duration, FaultTarget? target)
    {
        CheckPeriod(duration, nameof(duration));
        var start = Now;
        lock (_gate)
        {
            _refuseTarget = target ?? FaultTarget.Everyone;
            Interlocked.Exchange(ref _refuseUntilTicks, (start + duration).UtcTicks);
        }

        return new FaultOutcome("refuse-connects", start, start + duration, []);
    }

    /// <summary>Holds every PUBACK and twin/method response to devices back by <paramref name="delay"/> for <paramref name="duration"/>.</summary>
    public void DelayAcknowledgements(TimeSpan delay, TimeSpan duration) => DelayAcknowledgements(delay, duration, null);

    /// <summary>Holds PUBACKs and twin/method responses to the targeted devices back by <paramref name="delay"/> for <paramref name="duration"/>.</summary>
    public FaultOutcome DelayAcknowledgements(TimeSpan delay, TimeSpan duration, FaultTarget? target)
    {
        if (delay < TimeSpan.Zero || delay > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "delay must be between 0 and 5 minutes.");
        }

        CheckPeriod(duration, nameof(duration));
        var start = Now;
        lock (_gate)
        {
            _ackDelayTarget = target ?? FaultTarget.Everyone;
            Interlocked.Exchange(ref _ackDelayTicks, delay.Ticks);
            Interlocked.Exchange(ref _ackDelayUntilTicks, (start + duration).UtcTicks);
        }

        return new FaultOutcome("ack-delay", start, start + duration, []);
    }

    /// <summary>
    /// Fails a <paramref name="ratio"/> (0..1) of device twin operations (GET, reported PATCH) with
    /// <paramref name="status"/> (e.g. 429, 500, 503) for <paramref name="duration"/>.
    /// </summary>
    public void FailTwinOperations(int status, double ratio, TimeSpan duration) => FailTwinOperations(status, ratio, duration, null);

    /// <summary>As <see cref="FailTwinOperations(int, double, TimeSpan)"/>, for the targeted devices only.</summary>
    public FaultOutcome FailTwinOperations(int status, double ratio, TimeSpan duration, FaultTarget? target)
    {
        if (status is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "status must be an error status between 400 and 599.");
        }

        if (double.IsNaN(ratio) || ratio is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be between 0 and 1.");
        }

        CheckPeriod(duration, nameof(duration));
        var start = Now;
        lock (_gate)
        {
            _twinFailStatus = status;
            _twinFailRatio = ratio;
            _twinFailTarget = target ?? FaultTarget.Everyone;
            Interlocked.Exchange(ref _twinFailUntilTicks, (start + duration).UtcTicks);
        }

        return new FaultOutcome("twin-failures", start, start + duration, []);
    }

    /// <summary>Ends every timed fault (restarts, blackholes, latency, connect refusals, twin failures, acknowledgement delays).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref _refuseUntilTicks, 0);
            Interlocked.Exchange(ref _ackDelayUntilTicks, 0);
            Interlocked.Exchange(ref _twinFailUntilTicks, 0);
            Interlocked.Exchange(ref _latencyUntilTicks, 0);
            Interlocked.Exchange(ref _downUntilTicks, 0);
            _upTimer?.Dispose();
            _upTimer = null;
            _refuseTarget = FaultTarget.Everyone;
        }

        _transport?.ReleaseAll();
        if (_listeners is { } listeners)
        {
            _ = listeners.UpAsync();
        }

        Signal();
    }

    internal void Attach(IConnectionControl connections) => _connections = connections;

    internal void Attach(ConnectionFaults transport, ListenerSwitch listeners)
    {
        _transport = transport;
        _listeners = listeners;
    }

    internal bool IsRefusingConnects(string clientId)
    {
        if (Now.UtcTicks >= Interlocked.Read(ref _refuseUntilTicks) || !Volatile.Read(ref _refuseTarget).Matches(clientId))
        {
            return false;
        }

        Interlocked.Increment(ref _refused);
        return true;
    }

    /// <summary>True (with the status to answer) when this twin operation of <paramref name="deviceId"/> is to fail.</summary>
    internal bool ShouldFailTwinOperation(string deviceId, out int status)
    {
        status = 0;
        if (Now.UtcTicks >= Interlocked.Read(ref _twinFailUntilTicks))
        {
            return false;
        }

        lock (_gate)
        {
            if (!_twinFailTarget.Matches(deviceId) || _random.NextDouble() >= _twinFailRatio)
            {
                return false;
            }

            status = _twinFailStatus;
        }

        Interlocked.Increment(ref _twinFailures);
        return true;
    }

    /// <summary>The current acknowledgement delay for <paramref name="deviceId"/>, or zero.</summary>
    internal TimeSpan AckDelayFor(string deviceId) =>
        Now.UtcTicks < Interlocked.Read(ref _ackDelayUntilTicks) && Volatile.Read(ref _ackDelayTarget).Matches(deviceId)
            ? TimeSpan.FromTicks(Interlocked.Read(ref _ackDelayTicks))
            : TimeSpan.Zero;

    /// <summary>
    /// How long the next flush of hub bytes to <paramref name="deviceId"/> waits (latency ± jitter); connections not
    /// (yet) known as a device's wait only when the latency targets everyone.
    /// </summary>
    internal TimeSpan AnswerDelay(string? deviceId)
    {
        var until = Interlocked.Read(ref _latencyUntilTicks);
        if (until == 0 || Now.UtcTicks >= until)
        {
            return TimeSpan.Zero;
        }

        var target = Volatile.Read(ref _latencyTarget);
        if (deviceId is null ? !target.IsEveryone : !target.Matches(deviceId))
        {
            return TimeSpan.Zero;
        }

        var by = Interlocked.Read(ref _latencyTicks);
        var jitter = Interlocked.Read(ref _latencyJitterTicks);
        if (jitter == 0)
        {
            return TimeSpan.FromTicks(by);
        }

        double r;
        lock (_gate)
        {
            r = _random.NextDouble();
        }

        return TimeSpan.FromTicks(Math.Max(0, by + (long)((2 * r - 1) * jitter)));
    }

    /// <summary>Waits <paramref name="delay"/> on the hub's clock, or less when a fault changed (cleared) meanwhile.</summary>
    internal async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        var changed = Volatile.Read(ref _changed).Task;
        try
        {
            await Task.WhenAny(Task.Delay(delay, _time, cancellationToken), changed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
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
