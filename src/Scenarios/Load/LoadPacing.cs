using System.Globalization;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Load;

/// <summary>
/// The hub limits a run is paced to: new device connections and device-to-cloud sends per second (null: not limited),
/// and where they come from (a tier such as "S1 x 1", or the emulator's explicit quotas), for the lines that say so.
/// </summary>
public sealed record PacingLimits(double? ConnectsPerSecond, double? TelemetryPerSecond, string Source)
{
    /// <summary>
    /// Pacing stays this far under a limit (connects, sends, and the tier's registry operations alike): the hub counts
    /// arrivals, and the network and TLS handshakes jitter them.
    /// </summary>
    public const double Headroom = 0.9;
}

/// <summary>
/// A scenario's load fitted under a hub's limits, computed once before the run (pure, deterministic):
/// <list type="bullet">
/// <item>Connects: every ramp or inject phase that would connect devices faster than the paced connect rate is lengthened
/// to that rate (ramp: <c>over</c>; inject: <c>perSecond</c> lowered, <c>for</c> lengthened to add the same devices). The
/// phases after it, and the scenario's faults, move later by as much (<see cref="Map"/>), so a hold still holds the whole
/// fleet and a fault still hits the phase it was written for; the run lasts longer.</item>
/// <item>Telemetry: when the most the scenario asks (its largest fleet at each phase's intervals) exceeds the paced send
/// rate, every telemetry interval is multiplied by one <see cref="TelemetryFactor"/> for the whole run: the load keeps
/// its shape, scaled down to fit.</item>
/// </list>
/// Reconnects after a fault are not scheduled by the runner and so not paced here: the devices' retry policy backs off
/// on CONNACK 3 (throttled) with full jitter.
/// </summary>
public sealed class LoadPacing
{
    private readonly (TimeSpan From, TimeSpan Length, TimeSpan PacedFrom, TimeSpan PacedLength)[] _segments;
    private readonly TimeSpan _shift;

    private LoadPacing(Scenario scenario, PacingLimits? limits, IReadOnlyList<LoadPhase> load, (TimeSpan, TimeSpan, TimeSpan, TimeSpan)[] segments,
        TimeSpan shift, TimeSpan askedRamps, TimeSpan pacedRamps, double askedTelemetry, double telemetryFactor)
    {
        Scenario = scenario;
        Limits = limits;
        Load = load;
        _segments = segments;
        _shift = shift;
        AskedRampTime = askedRamps;
        PacedRampTime = pacedRamps;
        AskedTelemetryPeak = askedTelemetry;
        TelemetryFactor = telemetryFactor;
        Duration = Map(scenario.Duration);
    }

    public Scenario Scenario { get; }

    /// <summary>The limits paced to; null when the run is not paced (no tier known, or pacing turned off).</summary>
    public PacingLimits? Limits { get; }

    /// <summary>The load phases as the run follows them (the scenario's own when nothing needed pacing).</summary>
    public IReadOnlyList<LoadPhase> Load { get; }

    /// <summary>The run's length on the paced timeline.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The most new connections per second the run makes (null: not capped).</summary>
    public double? ConnectRate => Limits?.ConnectsPerSecond * PacingLimits.Headroom;

    /// <summary>The most device-to-cloud messages per second the run asks of the hub (null: not capped).</summary>
    public double? TelemetryRate => Limits?.TelemetryPerSecond * PacingLimits.Headroom;

    /// <summary>True when some phase was lengthened to keep its connects under <see cref="ConnectRate"/>.</summary>
    public bool ConnectsPaced => PacedRampTime != AskedRampTime;

    /// <summary>The lengthened phases' durations as the scenario asked for them, and as paced.</summary>
    public TimeSpan AskedRampTime { get; }

    public TimeSpan PacedRampTime { get; }

    /// <summary>The most telemetry the scenario asks for at once (messages per second, its largest fleet at each phase's intervals).</summary>
    public double AskedTelemetryPeak { get; }

    /// <summary>Every telemetry interval is multiplied by this (1: telemetry is not paced).</summary>
    public double TelemetryFactor { get; }

    public bool TelemetryPaced => TelemetryFactor > 1;

    /// <summary>The most telemetry the paced run sends at once (messages per second).</summary>
    public double PacedTelemetryPeak => AskedTelemetryPeak / TelemetryFactor;

    /// <summary>True when pacing changed anything about the run.</summary>
    public bool Changed => ConnectsPaced || TelemetryPaced;

    /// <summary>A telemetry interval as the paced run uses it.</summary>
    public TimeSpan PacedInterval(TimeSpan interval) =>
        TelemetryPaced ? TimeSpan.FromTicks((long)Math.Min(TimeSpan.MaxValue.Ticks / 2.0, Math.Ceiling(interval.Ticks * TelemetryFactor))) : interval;

    /// <summary>The scenario's load unchanged (the run is not paced).</summary>
    public static LoadPacing None(Scenario scenario) => Plan(scenario, null);

    /// <summary>Fits <paramref name="scenario"/>'s load under <paramref name="limits"/> (null: leaves it as it is).</summary>
    public static LoadPacing Plan(Scenario scenario, PacingLimits? limits)
    {
        var fleet = scenario.TotalDevices;
        var connectCap = limits?.ConnectsPerSecond * PacingLimits.Headroom;
        var load = new List<LoadPhase>(scenario.Load.Count);
        var segments = new List<(TimeSpan, TimeSpan, TimeSpan, TimeSpan)>(scenario.Load.Count);
        TimeSpan start = TimeSpan.Zero, pacedStart = TimeSpan.Zero, askedRamps = TimeSpan.Zero, pacedRamps = TimeSpan.Zero;
        var level = 0.0;
        foreach (var phase in scenario.Load)
        {
            var paced = phase;
            switch (phase)
            {
                case RampPhase ramp:
                    var to = Math.Clamp(ramp.To, 0, fleet);
                    var added = to - level;
                    if (connectCap is { } cap && added > 0 && (ramp.Over <= TimeSpan.Zero || added / ramp.Over.TotalSeconds > cap * (1 + 1e-9)))
                        paced = ramp with { Over = Seconds(added / cap) };
                    level = to;
                    break;
                case InjectPhase inject:
                    var injectedTo = Math.Clamp(level + inject.PerSecond * inject.For.TotalSeconds, 0, fleet);
                    var injected = injectedTo - level;
                    if (connectCap is { } injectCap && injected > 0 && inject.PerSecond > injectCap * (1 + 1e-9))
                        paced = inject with { PerSecond = injectCap, For = inject.For + Seconds(injected / injectCap - injected / inject.PerSecond) };
                    level = injectedTo;
                    break;
                case RampDownPhase down:
                    level = Math.Clamp(down.To, 0, fleet);
                    break;
            }

            if (!ReferenceEquals(paced, phase) && start < scenario.Duration)
            {
                askedRamps += phase.Duration;
                pacedRamps += paced.Duration;
            }

            segments.Add((start, phase.Duration, pacedStart, paced.Duration));
            load.Add(paced);
            start += phase.Duration;
            pacedStart += paced.Duration;
        }

        var asked = limits?.TelemetryPerSecond is null ? 0 : AskedTelemetry(scenario);
        var factor = limits?.TelemetryPerSecond is { } telemetryLimit && asked > telemetryLimit * PacingLimits.Headroom
            ? asked / (telemetryLimit * PacingLimits.Headroom)
            : 1.0;
        var changed = askedRamps != pacedRamps;
        return new LoadPacing(scenario, limits, changed ? load : scenario.Load, [.. segments], pacedStart - start, askedRamps, pacedRamps, asked, factor);
    }

    /// <summary>
    /// Where a moment of the scenario's timeline (from the start of the run) falls on the paced one: inside a lengthened
    /// phase at the same fraction of it, after it as much later as the phases before it were lengthened.
    /// </summary>
    public TimeSpan Map(TimeSpan scenarioTime)
    {
        foreach (var (from, length, pacedFrom, pacedLength) in _segments)
        {
            if (scenarioTime < from + length)
                return scenarioTime <= from ? pacedFrom + (scenarioTime - from) : pacedFrom + (scenarioTime - from) * (pacedLength / length);
        }

        return scenarioTime + _shift;
    }

    /// <summary>A fault moved onto the paced timeline (its start and end; a repeat keeps its period).</summary>
    public FaultSpec Shift(FaultSpec fault) =>
        _shift == TimeSpan.Zero ? fault : fault with { At = Map(fault.At), Until = fault.Until is { } until ? Map(until) : null };

    /// <summary>What pacing did, one line each, for the console, the report and the dry run; empty when it changed nothing.</summary>
    public IReadOnlyList<string> Describe()
    {
        var lines = new List<string>();
        if (Limits is not { } limits)
            return lines;
        if (ConnectsPaced)
        {
            var line = $"connects paced to {Rate(ConnectRate!.Value)}/s by {limits.Source} ({Rate(limits.ConnectsPerSecond!.Value)} new connections/s, paced at {Headroom}): "
                       + $"the ramps take {Show(PacedRampTime)} instead of {Show(AskedRampTime)}";
            if (Duration != Scenario.Duration)
                line += $"; the phases after them (and faults) start up to {Show(Duration - Scenario.Duration)} later and the run lasts {Show(Duration)} instead of {Show(Scenario.Duration)}";
            lines.Add(line);
        }

        if (TelemetryPaced)
        {
            var groups = Scenario.DeviceGroups.Where(static g => g.Telemetry is not null)
                .Select(g => $"{g.Name} {Show(g.Telemetry!.Interval)} -> {Show(PacedInterval(g.Telemetry.Interval))}");
            lines.Add($"telemetry paced to {Rate(PacedTelemetryPeak)} messages/s by {limits.Source} ({Rate(limits.TelemetryPerSecond!.Value)} device-to-cloud sends/s, paced at {Headroom}): "
                      + $"the scenario asks up to {Rate(AskedTelemetryPeak)}/s, so every telemetry interval is {TelemetryFactor.ToString("0.##", CultureInfo.InvariantCulture)} times longer "
                      + $"({string.Join(", ", groups)}) and each device's first message is spread over its interval");
        }

        return lines;
    }

    /// <summary>
    /// The most telemetry the scenario asks for at once: at each phase (from its start while it runs), the largest fleet it
    /// holds, each group's devices at that group's interval then (a phase's rate change stays in force; pause sends nothing).
    /// </summary>
    private static double AskedTelemetry(Scenario scenario)
    {
        var groups = scenario.DeviceGroups;
        var intervals = new double[groups.Count];
        var sizes = new int[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            intervals[g] = groups[g].Telemetry?.Interval.TotalSeconds ?? 0;
            sizes[g] = groups[g].Count;
        }

        var order = new DeviceOrder(sizes);
        var fleet = order.Count;
        if (scenario.Load.Count == 0)
            return RateAt(fleet);
        var peak = 0.0;
        var level = 0.0;
        var start = TimeSpan.Zero;
        foreach (var phase in scenario.Load)
        {
            if (start >= scenario.Duration && start > TimeSpan.Zero)
                break;
            if (phase.Telemetry is { } change)
            {
                for (var g = 0; g < groups.Count; g++)
                {
                    if (groups[g].Telemetry is { } telemetry)
                        intervals[g] = change.Apply(telemetry.Interval).TotalSeconds;
                }
            }

            var to = phase switch
            {
                RampPhase ramp => Math.Clamp(ramp.To, 0, fleet),
                RampDownPhase down => Math.Clamp(down.To, 0, fleet),
                InjectPhase inject => Math.Clamp(level + inject.PerSecond * inject.For.TotalSeconds, 0, fleet),
                _ => level,
            };
            if (phase is not PausePhase)
                peak = Math.Max(peak, RateAt((int)Math.Floor(Math.Max(level, to) + 1e-9)));
            level = to;
            start += phase.Duration;
        }

        // After the phases the run holds the last fleet, not paused, at the intervals then in force.
        if (start < scenario.Duration)
            peak = Math.Max(peak, RateAt((int)Math.Floor(level + 1e-9)));
        return peak;

        double RateAt(int devices)
        {
            var counts = new int[groups.Count];
            for (var k = 0; k < Math.Min(devices, fleet); k++)
                counts[order[k].Group]++;
            var rate = 0.0;
            for (var g = 0; g < counts.Length; g++)
            {
                if (intervals[g] > 0)
                    rate += counts[g] / intervals[g];
            }

            return rate;
        }
    }

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromTicks((long)Math.Ceiling(seconds * TimeSpan.TicksPerSecond));

    private static readonly string Headroom = PacingLimits.Headroom.ToString("P0", CultureInfo.InvariantCulture).Replace(" ", "", StringComparison.Ordinal);

    private static string Rate(double perSecond) => perSecond.ToString(perSecond >= 100 ? "N0" : "0.#", CultureInfo.InvariantCulture);

    /// <summary>A duration as the scenario language writes it, to the second from one second up (3m42s, 20s, 500ms).</summary>
    public static string Show(TimeSpan time) =>
        DurationText.Format(time >= TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(Math.Round(time.TotalSeconds)) : TimeSpan.FromMilliseconds(Math.Round(time.TotalMilliseconds)));
}
