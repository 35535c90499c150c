using System.Collections.Concurrent;

namespace FleetSim.Metrics;

/// <summary>
/// A device's twin compared with the hub's when it stopped (<see cref="ConvergenceLog"/>): whether the hub's reported
/// properties equal what the device last reported, and the desired version it applied against the hub's. When the
/// device could not check (not connected at its stop, no answer in time), <see cref="Unchecked"/> says why.
/// A record of primitives, so it crosses processes in <see cref="MetricsInterval.Twin"/>.
/// </summary>
public readonly record struct TwinCheck(string DeviceId, bool ReportedMatches, long DesiredApplied, long DesiredAtHub, string? Unchecked)
{
    public bool Checked => Unchecked is null;

    /// <summary>Checked, and the hub holds a desired version the device never applied.</summary>
    public bool DesiredBehind => Checked && DesiredApplied < DesiredAtHub;

    /// <summary>Checked, and the hub's reported properties differ from what the device last reported.</summary>
    public bool ReportedDiverged => Checked && !ReportedMatches;

    public bool Diverged => DesiredBehind || ReportedDiverged;
}

/// <summary>
/// The end-of-run twin convergence check: the latest <see cref="TwinCheck"/> of every device (a device stopped by a
/// ramp-down and started again is checked again; its last check counts). Lock-free per device.
/// </summary>
public sealed class ConvergenceLog
{
    private readonly ConcurrentDictionary<string, TwinCheck> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TwinCheck> _export = new();
    private readonly bool _exporting;

    public ConvergenceLog(bool exporting = false) => _exporting = exporting;

    public void Record(TwinCheck check)
    {
        ArgumentNullException.ThrowIfNull(check.DeviceId);
        if (_exporting)
            _export.Enqueue(check);
        else
            _latest[check.DeviceId] = check;
    }

    /// <summary>Every device's latest check, ordered by device id.</summary>
    public IReadOnlyList<TwinCheck> Latest() => [.. _latest.Values.OrderBy(static c => c.DeviceId, StringComparer.Ordinal)];

    internal TwinCheck[] Drain()
    {
        var drained = new List<TwinCheck>();
        while (_export.TryDequeue(out var c))
            drained.Add(c);
        return [.. drained];
    }

    internal void Absorb(IReadOnlyList<TwinCheck> checks)
    {
        foreach (var c in checks)
            _latest[c.DeviceId] = c;
    }
}
