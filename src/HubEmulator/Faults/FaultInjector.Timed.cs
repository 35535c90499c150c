namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// The timed faults (latency, connect refusals, acknowledgement delays, twin failures) and the questions the hub asks
/// on its hot paths about them: each a <see cref="TimedFault{T}"/> (deadline, target and parameters) read lock-free.
/// </summary>
public sealed partial class FaultInjector
{
    private readonly TimedFault<bool> _refusal = new();
    private readonly TimedFault<TimeSpan> _ackDelay = new();
    private readonly TimedFault<(int Status, double Ratio)> _twinFailure = new();
    private readonly TimedFault<Latency> _latency = new();

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
        return new FaultOutcome("latency", start, _latency.Start(start, duration, new Latency(by, jitter), target), []);
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
        return new FaultOutcome("refuse-connects", start, _refusal.Start(start, duration, true, target), []);
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
        return new FaultOutcome("ack-delay", start, _ackDelay.Start(start, duration, delay, target), []);
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
        return new FaultOutcome("twin-failures", start, _twinFailure.Start(start, duration, (status, ratio), target), []);
    }

    /// <summary>Ends every timed fault (restarts, blackholes, latency, connect refusals, twin failures, acknowledgement delays).</summary>
    public void Clear()
    {
        _refusal.End();
        _ackDelay.End();
        _twinFailure.End();
        _latency.End();
        lock (_gate)
        {
            Interlocked.Exchange(ref _downUntilTicks, 0);
            _upTimer?.Dispose();
            _upTimer = null;
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
        if (!_refusal.Hits(clientId, Now))
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
        if (!_twinFailure.Hits(deviceId, Now, out var fail))
        {
            return false;
        }

        lock (_gate)
        {
            if (_random.NextDouble() >= fail.Ratio)
            {
                return false;
            }
        }

        status = fail.Status;

        Interlocked.Increment(ref _twinFailures);
        return true;
    }

    /// <summary>The current acknowledgement delay for <paramref name="deviceId"/>, or zero.</summary>
    internal TimeSpan AckDelayFor(string deviceId) => _ackDelay.Hits(deviceId, Now, out var delay) ? delay : TimeSpan.Zero;

    /// <summary>
    /// How long the next flush of hub bytes to <paramref name="deviceId"/> waits (latency ± jitter); connections not
    /// (yet) known as a device's wait only when the latency targets everyone.
    /// </summary>
    internal TimeSpan AnswerDelay(string? deviceId)
    {
        if (!_latency.Hits(deviceId, Now, out var latency))
        {
            return TimeSpan.Zero;
        }

        if (latency.Jitter == TimeSpan.Zero)
        {
            return latency.By;
        }

        double r;
        lock (_gate)
        {
            r = _random.NextDouble();
        }

        return latency.At(r);
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
