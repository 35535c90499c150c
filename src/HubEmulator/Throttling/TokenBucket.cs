namespace FleetSim.HubEmulator.Throttling;

/// <summary>
/// A lock-free token bucket in its GCRA form: one 64-bit "theoretical arrival time" advanced by compare-and-swap,
/// no allocation. Capacity is one second's worth of tokens (at least one); time comes from the hub's
/// <see cref="TimeProvider"/> so tests can run it on virtual time. Times are nanoseconds since the bucket was made.
/// </summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly long _epochTicks;
    private readonly long _intervalNanos;
    private readonly long _toleranceNanos;
    private long _theoreticalArrival;

    public TokenBucket(double perSecond, TimeProvider time)
    {
        _time = time;
        _epochTicks = time.GetUtcNow().UtcTicks;
        _intervalNanos = Math.Max(1, (long)Math.Round(1e9 / perSecond));
        var capacity = Math.Max(1.0, perSecond);
        _toleranceNanos = (long)Math.Round((capacity - 1) * _intervalNanos);
    }

    /// <summary>Takes a token if one is available now; false (and nothing taken) otherwise.</summary>
    public bool TryTake()
    {
        var now = NowNanos();
        while (true)
        {
            var tat = Volatile.Read(ref _theoreticalArrival);
            var start = Math.Max(tat, now);
            if (start - _toleranceNanos > now)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _theoreticalArrival, start + _intervalNanos, tat) == tat)
            {
                return true;
            }
        }
    }

    /// <summary>Reserves the next token and returns how long to wait for it (zero when one is available now).</summary>
    public TimeSpan Reserve()
    {
        var now = NowNanos();
        while (true)
        {
            var tat = Volatile.Read(ref _theoreticalArrival);
            var start = Math.Max(tat, now);
            if (Interlocked.CompareExchange(ref _theoreticalArrival, start + _intervalNanos, tat) == tat)
            {
                var wait = start - _toleranceNanos - now;
                return wait > 0 ? TimeSpan.FromTicks((wait + 99) / 100) : TimeSpan.Zero;
            }
        }
    }

    private long NowNanos() => (_time.GetUtcNow().UtcTicks - _epochTicks) * 100;
}
