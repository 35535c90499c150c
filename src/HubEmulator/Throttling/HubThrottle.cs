namespace FleetSim.HubEmulator.Throttling;

/// <summary>
/// The emulator's quotas in force: one hub-wide <see cref="TokenBucket"/> per limited kind of operation (none for
/// an unlimited one, so an unthrottled hub pays one null check), and counts of what was throttled.
/// </summary>
internal sealed class HubThrottle
{
    private readonly TokenBucket? _connects;
    private readonly TokenBucket? _telemetry;
    private readonly TokenBucket? _twin;
    private readonly TokenBucket? _registry;
    private readonly double? _registryRate;
    private long _registryOperations;
    private long _throttledRegistry;
    private long _throttledConnects;
    private long _delayedTelemetry;
    private long _throttledTwin;

    public HubThrottle(ThrottlingQuotas? quotas, TimeProvider time)
    {
        _connects = quotas?.ConnectsPerSecond is { } c ? new TokenBucket(c, time) : null;
        _telemetry = quotas?.TelemetryPerSecond is { } t ? new TokenBucket(t, time) : null;
        _twin = quotas?.TwinOperationsPerSecond is { } w ? new TokenBucket(w, time) : null;
        _registryRate = quotas?.RegistryOperationsPerSecond;
        _registry = _registryRate is { } r ? new TokenBucket(r, time) : null;
    }

    public bool LimitsTelemetry => _telemetry is not null;

    public long ThrottledConnects => Interlocked.Read(ref _throttledConnects);

    public long DelayedTelemetry => Interlocked.Read(ref _delayedTelemetry);

    public long ThrottledTwinOperations => Interlocked.Read(ref _throttledTwin);

    /// <summary>Registry operations accepted (a bulk call counts once), throttled or not limited.</summary>
    public long RegistryOperations => Interlocked.Read(ref _registryOperations);

    public long ThrottledRegistryOperations => Interlocked.Read(ref _throttledRegistry);

    /// <summary>What to put in Retry-After when a registry operation is throttled: one token's interval, at least 1 s.</summary>
    public int RegistryRetryAfterSeconds => _registryRate is { } rate ? (int)Math.Max(1, Math.Ceiling(1 / rate)) : 1;

    /// <summary>False when this identity registry operation is over the quota (answer 429 with Retry-After).</summary>
    public bool TryRegistryOperation()
    {
        if (!Take(_registry, ref _throttledRegistry))
        {
            return false;
        }

        Interlocked.Increment(ref _registryOperations);
        return true;
    }

    /// <summary>False when this connect is over the quota (answer CONNACK 3).</summary>
    public bool TryConnect() => Take(_connects, ref _throttledConnects);

    /// <summary>False when this twin operation is over the quota (answer 429).</summary>
    public bool TryTwinOperation() => Take(_twin, ref _throttledTwin);

    /// <summary>How long to hold back the PUBACK of this telemetry message (zero when under the quota).</summary>
    public TimeSpan TelemetryDelay()
    {
        if (_telemetry is null)
        {
            return TimeSpan.Zero;
        }

        var wait = _telemetry.Reserve();
        if (wait > TimeSpan.Zero)
        {
            Interlocked.Increment(ref _delayedTelemetry);
        }

        return wait;
    }

    private static bool Take(TokenBucket? bucket, ref long throttled)
    {
        if (bucket is null || bucket.TryTake())
        {
            return true;
        }

        Interlocked.Increment(ref throttled);
        return false;
    }
}
