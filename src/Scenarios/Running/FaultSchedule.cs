using FleetSim.Reporting;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>What one firing of a fault did: its kind (REST name), a short description, its period and the devices it hit.</summary>
public sealed record AppliedFault(string Kind, string Description, TimeSpan? For, IReadOnlyList<string> AffectedDeviceIds)
{
    /// <summary>Connections affected; by default one per device named.</summary>
    public int Affected { get; init; } = AffectedDeviceIds.Count;

    /// <summary>
    /// When the fault took effect, on the clock devices record their connection events with, when the injection knows it
    /// (the emulator's fault event says when it began: after a REST call to a partitioned hub that is later than the call);
    /// null: the moment the schedule called <see cref="IFaultInjection.ApplyAsync"/>.
    /// </summary>
    public DateTimeOffset? At { get; init; }
}

/// <summary>What the hub (or the chaos proxy in front of it) must offer for scheduled faults.</summary>
public interface IFaultInjection
{
    /// <summary>Where faults are injected, for the report: <c>emulator</c> or <c>chaos</c>.</summary>
    string Source => "emulator";

    /// <summary>
    /// Applies the fault now. <paramref name="target"/> is null for every device, else the id patterns (exact ids, or
    /// globs with <c>*</c>) the fault is limited to (a group's ids, or the fault's <c>ids</c>).
    /// </summary>
    Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target);
}

/// <summary>
/// The scenario's faults in time order, fired by the runner's tick when their moment comes. A repeating fault
/// (<c>every</c>, <c>until</c>) fires once per occurrence; each firing is a fault event kept for the report and for
/// recovery metrics (kind, start, end, devices affected).
/// A fault is applied when a tick finds it due, which on a loaded machine is later than planned (a late tick, a slow REST
/// call to a partitioned hub): each firing keeps both moments, the planned one (<see cref="FaultRecord.AtSeconds"/>) and
/// the one it took effect (<see cref="FaultRecord.AppliedAtSeconds"/>), and its window (what recovery is attributed to and
/// measured from) starts at the latter.
/// </summary>
public sealed class FaultSchedule
{
    private readonly PriorityQueue<FaultSpec, (TimeSpan At, int Order)> _due = new();
    private readonly List<Firing> _applied = [];
    private readonly IFaultInjection _injection;
    private readonly Func<string, IReadOnlyList<string>?> _groupIds;
    private int _order;

    /// <param name="faults">The scenario's faults.</param>
    /// <param name="injection">Where they are applied.</param>
    /// <param name="groupIds">The device ids of a group, for faults that target one (null: unknown group).</param>
    public FaultSchedule(IReadOnlyList<FaultSpec> faults, IFaultInjection injection, Func<string, IReadOnlyList<string>?>? groupIds = null)
    {
        _injection = injection;
        _groupIds = groupIds ?? (_ => null);
        foreach (var fault in faults)
            _due.Enqueue(fault, (fault.At, _order++));
    }

    /// <summary>Firings so far.</summary>
    public int Fired => _applied.Count;

    /// <param name="elapsed">Time since the run started (the scenario's clock).</param>
    /// <param name="now">The moment, on the clock devices record their connection events with.</param>
    public void Tick(TimeSpan elapsed, DateTimeOffset now)
    {
        while (_due.TryPeek(out var fault, out var when) && when.At <= elapsed)
        {
            _due.Dequeue();
            _applied.Add(new Firing(when.At, elapsed, now, fault, Apply(fault)));
            if (fault.Every is { } every && every > TimeSpan.Zero && (fault.Until is not { } until || when.At + every <= until))
                _due.Enqueue(fault, (when.At + every, _order++));
        }
    }

    /// <summary>
    /// When each firing started and ended, its kind and the devices it may have hit, in the order of
    /// <see cref="DescribeAsync"/>'s records; null for one that failed to apply. Call after <see cref="DescribeAsync"/>
    /// (which waits for every application).
    /// </summary>
    public IReadOnlyList<FleetSim.Reporting.FaultWindow?> Windows()
    {
        var windows = new FleetSim.Reporting.FaultWindow?[_applied.Count];
        for (var i = 0; i < windows.Length; i++)
        {
            var firing = _applied[i];
            if (firing.Applied.IsCompletedSuccessfully)
            {
                var done = firing.Applied.Result;
                var start = firing.TookEffect(done);
                windows[i] = new(start, start + firing.Fault.Lasts) { Kind = done.Kind, Devices = DevicesHit(firing.Fault, done) };
            }
        }

        return windows;
    }

    /// <summary>
    /// The devices a firing may have taken down, or null for any device. A drop, blackhole or token expiry names the
    /// connections it closed or silenced (when it knows every one of them by device id); a hub restart hits everyone; a
    /// fault that holds for a period (refused connects, latency, delayed acks, twin failures) hits the devices it targeted,
    /// every device when it targeted none (or named them by a pattern).
    /// </summary>
    private IReadOnlySet<string>? DevicesHit(FaultSpec fault, AppliedFault applied)
    {
        switch (fault)
        {
            case HubRestartFault:
                return null;
            case DropConnectionsFault or BlackholeFault or ExpireTokensFault:
                return applied.Affected <= applied.AffectedDeviceIds.Count ? new HashSet<string>(applied.AffectedDeviceIds, StringComparer.Ordinal) : null;
            default:
                IReadOnlyList<string>? target;
                try
                {
                    target = Target(fault.Target);
                }
                catch (ArgumentException)
                {
                    return null;
                }

                return target is null || target.Any(static id => id.Contains('*')) ? null : new HashSet<string>(target, StringComparer.Ordinal);
        }
    }

    private Task<AppliedFault> Apply(FaultSpec fault)
    {
        try
        {
            return _injection.ApplyAsync(fault, Target(fault.Target));
        }
        catch (Exception e)
        {
            return Task.FromException<AppliedFault>(e);
        }
    }

    private IReadOnlyList<string>? Target(FaultTargetSpec? target) => target switch
    {
        null => null,
        { Group: { } group } => _groupIds(group) ?? throw new ArgumentException($"no device group '{group}'"),
        _ => target.Ids,
    };

    /// <summary>One record per firing: its moment, kind, period, devices hit and what happened (or why it failed).</summary>
    public async Task<IReadOnlyList<FaultRecord>> DescribeAsync()
    {
        var records = new List<FaultRecord>(_applied.Count);
        foreach (var firing in _applied)
        {
            var at = firing.Planned;
            try
            {
                var done = await firing.Applied;
                var applied = firing.Called + (firing.TookEffect(done) - firing.CalledAt);
                records.Add(new FaultRecord(at.TotalSeconds, done.Description, true)
                {
                    Kind = done.Kind,
                    Source = _injection.Source,
                    AppliedAtSeconds = Math.Round(applied.TotalSeconds, 3),
                    EndSeconds = done.For is { } period ? Math.Round((applied + period).TotalSeconds, 3) : null,
                    Affected = done.Affected,
                    AffectedDeviceIds = done.AffectedDeviceIds,
                });
            }
            catch (Exception e)
            {
                records.Add(new FaultRecord(at.TotalSeconds, "failed: " + e.Message, false) { Kind = KindOf(firing.Fault), Source = _injection.Source });
            }
        }

        return records;
    }

    /// <summary>
    /// One firing: when it was planned and when it was called on the scenario's clock (<see cref="Called"/>, the tick that
    /// found it due) and on the devices' clock (<see cref="CalledAt"/>), and the application under way.
    /// </summary>
    private sealed record Firing(TimeSpan Planned, TimeSpan Called, DateTimeOffset CalledAt, FaultSpec Fault, Task<AppliedFault> Applied)
    {
        /// <summary>When the fault took effect: the injection's own moment when it gave one (never before the call), else the call.</summary>
        public DateTimeOffset TookEffect(AppliedFault done) => done.At is { } at && at > CalledAt ? at : CalledAt;
    }

    /// <summary>The REST name of a fault kind (the same names the emulator's fault events carry).</summary>
    public static string KindOf(FaultSpec fault) => fault switch
    {
        DropConnectionsFault => "drop",
        RefuseConnectsFault => "refuse-connects",
        FailTwinFault => "twin-failures",
        DelayAcksFault => "ack-delay",
        HubRestartFault => "hub-restart",
        BlackholeFault => "blackhole",
        ExpireTokensFault => "expire-tokens",
        LatencyFault => "latency",
        _ => fault.GetType().Name,
    };
}
