namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// A fault that is on for a while: from when it starts until a deadline on the caller's clock, for the devices of its
/// target, with the fault's parameters (<typeparamref name="T"/>: a delay, a latency, a status...). The emulator's
/// fault injector and the chaos proxy in front of a real hub both keep their timed faults in it.
/// <para>
/// Thread-safe and lock-free to read: the window (deadline, target, parameters) is one immutable object swapped at
/// once, so a reader never sees the deadline of one start with the target of another. Reading allocates nothing.
/// </para>
/// </summary>
public sealed class TimedFault<T>
{
    private Window? _window;

    /// <summary>Starts (or replaces) the fault: on from <paramref name="now"/> for <paramref name="duration"/>; returns when it ends.</summary>
    public DateTimeOffset Start(DateTimeOffset now, TimeSpan duration, T value, FaultTarget? target = null)
    {
        var end = now + duration;
        Volatile.Write(ref _window, new Window(end.UtcTicks, target ?? FaultTarget.Everyone, value));
        return end;
    }

    /// <summary>Ends the fault now.</summary>
    public void End() => Volatile.Write(ref _window, null);

    /// <summary>Whether the fault is on at <paramref name="now"/> for anyone (its end is exclusive).</summary>
    public bool IsOn(DateTimeOffset now) => Volatile.Read(ref _window) is { } w && now.UtcTicks < w.UntilTicks;

    /// <summary>Whether the fault hits <paramref name="deviceId"/> at <paramref name="now"/> (see the overload with its parameters).</summary>
    public bool Hits(string? deviceId, DateTimeOffset now) => Hits(deviceId, now, out _);

    /// <summary>
    /// Whether the fault hits <paramref name="deviceId"/> at <paramref name="now"/>, with its parameters. A connection
    /// not (yet) known as a device (<paramref name="deviceId"/> null) is hit only when the fault targets everyone.
    /// </summary>
    public bool Hits(string? deviceId, DateTimeOffset now, out T value)
    {
        if (Volatile.Read(ref _window) is { } w && now.UtcTicks < w.UntilTicks
            && (deviceId is null ? w.Target.IsEveryone : w.Target.Matches(deviceId)))
        {
            value = w.Value;
            return true;
        }

        value = default!;
        return false;
    }

    private sealed record Window(long UntilTicks, FaultTarget Target, T Value);
}

/// <summary>A latency fault's parameters: every answer held back by <see cref="By"/> ± <see cref="Jitter"/>.</summary>
public readonly record struct Latency(TimeSpan By, TimeSpan Jitter)
{
    /// <summary>
    /// The delay for a uniform draw <paramref name="unit"/> in [0, 1): 0 gives By - Jitter, 0.5 gives By, and towards 1
    /// By + Jitter; never below zero.
    /// </summary>
    public TimeSpan At(double unit) =>
        TimeSpan.FromTicks(Math.Max(0, By.Ticks + (long)((2 * unit - 1) * Jitter.Ticks)));
}
