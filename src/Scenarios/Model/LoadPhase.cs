namespace FleetSim.Scenarios.Model;

/// <summary>
/// One phase of the load simulation (NBomber vocabulary). Phases run in order; device targets (To) count
/// devices over all groups, split across groups in proportion to their sizes.
/// </summary>
public abstract record LoadPhase(TelemetryRateChange? Telemetry)
{
    /// <summary>How long the phase lasts.</summary>
    public abstract TimeSpan Duration { get; }
}

/// <summary>Connect devices evenly over <see cref="Over"/> until <see cref="To"/> are connected.</summary>
public sealed record RampPhase(int To, TimeSpan Over, TelemetryRateChange? Telemetry) : LoadPhase(Telemetry)
{
    public override TimeSpan Duration => Over;
}

/// <summary>Keep the connected devices for <see cref="For"/>.</summary>
public sealed record HoldPhase(TimeSpan For, TelemetryRateChange? Telemetry) : LoadPhase(Telemetry)
{
    public override TimeSpan Duration => For;
}

/// <summary>Connect <see cref="PerSecond"/> new devices each second for <see cref="For"/>.</summary>
public sealed record InjectPhase(double PerSecond, TimeSpan For, TelemetryRateChange? Telemetry) : LoadPhase(Telemetry)
{
    public override TimeSpan Duration => For;

    /// <summary>Devices this phase adds (rounded down).</summary>
    public int DevicesAdded => (int)Math.Min(int.MaxValue, Math.Floor(PerSecond * For.TotalSeconds));
}

/// <summary>Disconnect devices evenly over <see cref="Over"/> until <see cref="To"/> remain.</summary>
public sealed record RampDownPhase(int To, TimeSpan Over, TelemetryRateChange? Telemetry) : LoadPhase(Telemetry)
{
    public override TimeSpan Duration => Over;
}

/// <summary>Devices stay connected; telemetry, reported updates and service actions stop.</summary>
public sealed record PausePhase(TimeSpan For) : LoadPhase((TelemetryRateChange?)null)
{
    public override TimeSpan Duration => For;
}

/// <summary>
/// A telemetry rate change that applies from its phase on: exactly one of Factor (multiplies each group's
/// rate) or Interval (every device sends at this interval).
/// </summary>
public sealed record TelemetryRateChange(double? Factor, TimeSpan? Interval)
{
    /// <summary>The interval a group with <paramref name="groupInterval"/> uses under this change.</summary>
    public TimeSpan Apply(TimeSpan groupInterval) =>
        Interval ?? TimeSpan.FromTicks(Math.Max(1, (long)(groupInterval.Ticks / (Factor ?? 1.0))));
}
