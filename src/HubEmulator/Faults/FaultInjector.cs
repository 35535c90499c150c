using FleetSim.HubEmulator.Mqtt;

namespace FleetSim.HubEmulator.Faults;

/// <summary>The MQTT front end as the fault injector sees it: who is connected, and a way to cut one connection.</summary>
internal interface IConnectionControl
{
    IReadOnlyList<string> ConnectedDeviceIds();

    Task<bool> DisconnectAsync(string deviceId, DisconnectReason reason);
}

/// <summary>
/// Fault primitives for soak and resilience tests, callable from code and from <c>POST /fleetsim/faults/…</c>:
/// drop connections (all, a fraction, one device), refuse connects for a period (CONNACK 3), fail twin
/// operations with a status at a ratio, and delay acknowledgements. Each fault is counted.
/// </summary>
public sealed class FaultInjector
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Random _random;
    private IConnectionControl? _connections;
    private long _refuseUntilTicks;
    private string? _refuseOnlyDevice;
    private long _ackDelayTicks;
    private long _ackDelayUntilTicks;
    private long _twinFailUntilTicks;
    private int _twinFailStatus;
    private double _twinFailRatio;
    private long _twinFailures;
    private long _dropped;
    private long _refused;

    internal FaultInjector(TimeProvider time, int? seed = null)
    {
        _time = time;
        _random = seed is { } s ? new Random(s) : new Random();
    }

    /// <summary>Connections cut by drop faults so far.</summary>
    public long DroppedConnections => Interlocked.Read(ref _dropped);

    /// <summary>CONNECTs refused with CONNACK 3 so far.</summary>
    public long RefusedConnects => Interlocked.Read(ref _refused);

    /// <summary>Closes every device connection; returns how many were closed.</summary>
    public Task<int> DropAllAsync() => DropFractionAsync(1.0);

    /// <summary>Closes a random <paramref name="fraction"/> (0..1) of the device connections; returns how many were closed.</summary>
    public async Task<int> DropFractionAsync(double fraction)
    {
        if (double.IsNaN(fraction) || fraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be between 0 and 1.");
        }

        var ids = Connections.ConnectedDeviceIds();
        var count = (int)Math.Round(ids.Count * fraction, MidpointRounding.AwayFromZero);
        var chosen = ids.ToArray();
        lock (_gate)
        {
            _random.Shuffle(chosen);
        }

        var dropped = 0;
        var tasks = new Task<bool>[count];
        for (var i = 0; i < count; i++)
        {
            tasks[i] = Connections.DisconnectAsync(chosen[i], DisconnectReason.FaultInjected);
        }

        foreach (var closed in await Task.WhenAll(tasks).ConfigureAwait(false))
        {
            dropped += closed ? 1 : 0;
        }

        Interlocked.Add(ref _dropped, dropped);
        return dropped;
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
    /// Answers every CONNECT (or only <paramref name="deviceId"/>'s) with CONNACK 3 Server unavailable for
    /// <paramref name="duration"/>; a zero duration ends the refusal.
    /// </summary>
    public void RefuseConnects(TimeSpan duration, string? deviceId = null)
    {
        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration must not be negative.");
        }

        lock (_gate)
        {
            _refuseOnlyDevice = deviceId;
            Interlocked.Exchange(ref _refuseUntilTicks, (_time.GetUtcNow() + duration).UtcTicks);
        }
    }

    /// <summary>Holds every PUBACK and twin/method response to devices back by <paramref name="delay"/> for <paramref name="duration"/>.</summary>
    public void DelayAcknowledgements(TimeSpan delay, TimeSpan duration)
    {
        if (delay < TimeSpan.Zero || delay > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "delay must be between 0 and 5 minutes.");
        }

        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration must not be negative.");
        }

        lock (_gate)
        {
            Interlocked.Exchange(ref _ackDelayTicks, delay.Ticks);
            Interlocked.Exchange(ref _ackDelayUntilTicks, (_time.GetUtcNow() + duration).UtcTicks);
        }
    }

    /// <summary>Twin operations failed by injection so far.</summary>
    public long FailedTwinOperations => Interlocked.Read(ref _twinFailures);

    /// <summary>
    /// Fails a <paramref name="ratio"/> (0..1) of device twin operations (GET, reported PATCH) with
    /// <paramref name="status"/> (e.g. 429, 500, 503) for <paramref name="duration"/>.
    /// </summary>
    public void FailTwinOperations(int status, double ratio, TimeSpan duration)
    {
        if (status is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "status must be an error status between 400 and 599.");
        }

        if (double.IsNaN(ratio) || ratio is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be between 0 and 1.");
        }

        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration must not be negative.");
        }

        lock (_gate)
        {
            _twinFailStatus = status;
            _twinFailRatio = ratio;
            Interlocked.Exchange(ref _twinFailUntilTicks, (_time.GetUtcNow() + duration).UtcTicks);
        }
    }

    /// <summary>Ends every timed fault (connect refusals, twin failures, acknowledgement delays).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref _refuseUntilTicks, 0);
            Interlocked.Exchange(ref _ackDelayUntilTicks, 0);
            Interlocked.Exchange(ref _twinFailUntilTicks, 0);
            _refuseOnlyDevice = null;
        }
    }

    internal void Attach(IConnectionControl connections) => _connections = connections;

    internal bool IsRefusingConnects(string? clientId)
    {
        if (_time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _refuseUntilTicks))
        {
            return false;
        }

        var only = Volatile.Read(ref _refuseOnlyDevice);
        if (only is not null && !string.Equals(only, clientId, StringComparison.Ordinal))
        {
            return false;
        }

        Interlocked.Increment(ref _refused);
        return true;
    }

    /// <summary>True (with the status to answer) when this twin operation is to fail.</summary>
    internal bool ShouldFailTwinOperation(out int status)
    {
        status = 0;
        if (_time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _twinFailUntilTicks))
        {
            return false;
        }

        lock (_gate)
        {
            if (_random.NextDouble() >= _twinFailRatio)
            {
                return false;
            }

            status = _twinFailStatus;
        }

        Interlocked.Increment(ref _twinFailures);
        return true;
    }

    /// <summary>The current acknowledgement delay, or zero.</summary>
    internal TimeSpan AckDelay =>
        _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _ackDelayUntilTicks)
            ? TimeSpan.FromTicks(Interlocked.Read(ref _ackDelayTicks))
            : TimeSpan.Zero;

    private IConnectionControl Connections =>
        _connections ?? throw new InvalidOperationException("The emulator is not running.");
}
