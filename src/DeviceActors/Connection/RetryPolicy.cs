namespace FleetSim.DeviceActors;

/// <summary>How a device waits before it tries to connect again (PROTOCOL.md section 6).</summary>
public enum RetryKind
{
    /// <summary>SDK-like exponential growth with full jitter: a uniform wait in [0, min(cap, base * 2^attempt)].</summary>
    Exponential,

    /// <summary>A constant wait (the Python SDK's connection_retry_interval, 10 s).</summary>
    Fixed,

    /// <summary>No retry: the first failure stops the device.</summary>
    None,
}

/// <summary>
/// Retry policy shared by a device group. Full jitter (not the SDKs' ±5–25 %) so a fleet that lost its
/// connections at once does not reconnect in lockstep. Throttling (CONNACK 3, server busy) uses the throttled
/// base and cap (Node: 10 s .. 60 s).
/// </summary>
public sealed record RetryPolicy(
    RetryKind Kind,
    TimeSpan Base,
    TimeSpan Cap,
    TimeSpan FixedInterval,
    TimeSpan ThrottledBase,
    TimeSpan ThrottledCap)
{
    public static RetryPolicy Exponential { get; } = new(RetryKind.Exponential, TimeSpan.FromMilliseconds(100),
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60));

    public static RetryPolicy Fixed { get; } = Exponential with { Kind = RetryKind.Fixed };

    public static RetryPolicy None { get; } = Exponential with { Kind = RetryKind.None };

    /// <summary>False when <paramref name="failure"/> must not be retried at all (or the policy is <c>none</c>).</summary>
    public bool ShouldRetry(FailureKind failure) => Kind != RetryKind.None && failure.IsRetryable();

    /// <summary>
    /// The wait before retry number <paramref name="attempt"/> (0 = the first retry after a failure).
    /// Exponential: uniform in [0, min(cap, base * 2^attempt)]; throttled: uniform in [throttledBase, throttledCap
    /// bounded by throttledBase * 2^attempt]; fixed: the interval.
    /// </summary>
    public TimeSpan NextDelay(int attempt, FailureKind failure, ref DeviceRandom random)
    {
        if (failure == FailureKind.Throttled)
        {
            var ceiling = Grow(ThrottledBase, attempt, ThrottledCap);
            return ThrottledBase + Scale(ceiling - ThrottledBase, random.NextDouble());
        }

        return Kind switch
        {
            RetryKind.Fixed => FixedInterval,
            RetryKind.Exponential => Scale(Grow(Base, attempt, Cap), random.NextDouble()),
            _ => TimeSpan.Zero,
        };
    }

    /// <summary>Checks the values a scenario may have set; returns an error message or null.</summary>
    public string? Validate()
    {
        if (Base <= TimeSpan.Zero) return $"retry base must be positive (found {Base})";
        if (Cap < Base) return $"retry cap ({Cap}) must be at least the base ({Base})";
        if (FixedInterval <= TimeSpan.Zero) return $"fixed retry interval must be positive (found {FixedInterval})";
        if (ThrottledBase <= TimeSpan.Zero || ThrottledCap < ThrottledBase)
            return $"throttled retry base ({ThrottledBase}) must be positive and at most the throttled cap ({ThrottledCap})";
        return null;
    }

    private static TimeSpan Grow(TimeSpan start, int attempt, TimeSpan cap)
    {
        var shift = Math.Clamp(attempt, 0, 30);
        var ticks = start.Ticks * (double)(1L << shift);
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }

    private static TimeSpan Scale(TimeSpan span, double fraction) => TimeSpan.FromTicks((long)(span.Ticks * fraction));
}
