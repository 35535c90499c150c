namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// The timed faults (latency, connect refusals, acknowledgement delays, twin failures) and the questions the hub asks
/// on its hot paths about them: each is a deadline in ticks read lock-free, with its target and parameters.
/// </summary>
public sealed partial class FaultInjector
{
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
}
