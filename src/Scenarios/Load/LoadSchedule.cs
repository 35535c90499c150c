using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Load;

/// <summary>
/// The load simulation as a function of time: how many devices should be active at any moment since the start,
/// and the intended moment each device was due, so connect latency is measured from when the schedule asked
/// for the device, not from when a busy generator got round to it (no coordinated omission). Pure and
/// deterministic: the runner asks it on every tick, tests ask it directly.
/// </summary>
public sealed class LoadSchedule
{
    private readonly Segment[] _segments;

    public LoadSchedule(IReadOnlyList<LoadPhase> phases, TimeSpan minimumDuration, int fleetSize)
    {
        var segments = new List<Segment>(phases.Count + 1);
        var start = TimeSpan.Zero;
        var from = 0.0;
        for (var i = 0; i < phases.Count; i++)
        {
            var phase = phases[i];
            var to = phase switch
            {
                RampPhase ramp => ramp.To,
                RampDownPhase down => down.To,
                InjectPhase inject => from + inject.PerSecond * inject.For.TotalSeconds,
                _ => from,
            };
            to = Math.Clamp(to, 0, fleetSize);
            // Inject adds devices at its rate until the fleet is full; ramps spread the change over the whole phase.
            var rate = phase is InjectPhase injected ? injected.PerSecond : (double?)null;
            segments.Add(new Segment(i, phase, start, phase.Duration, from, to, rate));
            start += phase.Duration;
            from = to;
        }

        if (start < minimumDuration)
            segments.Add(new Segment(-1, null, start, minimumDuration - start, from, from, null));

        _segments = [.. segments];
        Duration = start > minimumDuration ? start : minimumDuration;
        Peak = 0;
        foreach (var s in _segments)
            Peak = Math.Max(Peak, (int)Math.Floor(Math.Max(s.From, s.To)));
    }

    /// <summary>The whole run: the phases, then a hold up to the scenario's duration if that is longer.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The most devices ever asked for at once.</summary>
    public int Peak { get; }

    /// <summary>Devices that should be active <paramref name="elapsed"/> after the start (rounded down).</summary>
    public int TargetAt(TimeSpan elapsed)
    {
        var segment = SegmentAt(elapsed);
        if (segment is null)
            return _segments.Length == 0 ? 0 : (int)Math.Floor(_segments[^1].To + 1e-9);
        var s = segment.Value;
        if (s.Rate is { } rate)
            return (int)Math.Floor(Math.Min(s.To, s.From + rate * (elapsed - s.Start).TotalSeconds) + 1e-9);
        var progress = s.Length <= TimeSpan.Zero ? 1.0 : Math.Clamp((elapsed - s.Start) / s.Length, 0, 1);
        return (int)Math.Floor(s.From + (s.To - s.From) * progress + 1e-9);
    }

    /// <summary>
    /// The most devices asked for at any moment in (<paramref name="from"/>, <paramref name="to"/>]: a tick that jumps over
    /// the peak at the end of a phase must still start the devices the schedule asked for there.
    /// </summary>
    public int MaxTargetBetween(TimeSpan from, TimeSpan to)
    {
        var max = TargetAt(to);
        foreach (var s in _segments)
        {
            var end = s.Start + s.Length;
            if (end > from && end <= to)
                max = Math.Max(max, (int)Math.Floor(s.To + 1e-9));
        }

        return max;
    }

    /// <summary>
    /// When the schedule first asked for <paramref name="count"/> active devices, searching from
    /// <paramref name="notBefore"/> (a device stopped by a ramp-down and started again later is due again later).
    /// </summary>
    public TimeSpan DueAt(int count, TimeSpan notBefore)
    {
        foreach (var s in _segments)
        {
            if (s.Start + s.Length < notBefore || s.To <= s.From || count > Math.Floor(s.To + 1e-9) || count <= s.From)
                continue;
            var at = s.Rate is { } rate
                ? s.Start + TimeSpan.FromSeconds((count - s.From) / rate)
                : s.Start + s.Length * ((count - s.From) / (s.To - s.From));
            return at < notBefore ? notBefore : at;
        }

        return notBefore;
    }

    /// <summary>The phase running at <paramref name="elapsed"/> (its index in the scenario), or null in the final hold and after the end.</summary>
    public (int Index, LoadPhase Phase)? PhaseAt(TimeSpan elapsed)
    {
        var s = SegmentAt(elapsed);
        return s is { Phase: not null } seg ? (seg.Index, seg.Phase) : null;
    }

    private Segment? SegmentAt(TimeSpan elapsed)
    {
        foreach (var s in _segments)
        {
            if (elapsed < s.Start + s.Length)
                return s;
        }

        return null;
    }

    private readonly record struct Segment(int Index, LoadPhase? Phase, TimeSpan Start, TimeSpan Length, double From, double To, double? Rate);
}
