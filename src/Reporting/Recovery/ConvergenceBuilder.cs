using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>Turns every device's latest <see cref="TwinCheck"/> into the report's convergence section.</summary>
public static class ConvergenceBuilder
{
    /// <summary>Null when no device checked its twin (no device of the run had twin behaviour).</summary>
    public static ConvergenceSection? Build(IReadOnlyList<TwinCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        if (checks.Count == 0)
            return null;
        int isChecked = 0, reported = 0, desired = 0, diverged = 0;
        var offenders = new List<TwinOffender>();
        var notChecked = new List<string>();
        foreach (var c in checks.OrderBy(static c => c.DeviceId, StringComparer.Ordinal))
        {
            if (!c.Checked)
            {
                if (notChecked.Count < RecoveryAnalysis.IdsShown)
                    notChecked.Add(c.DeviceId);
                continue;
            }

            isChecked++;
            reported += c.ReportedDiverged ? 1 : 0;
            desired += c.DesiredBehind ? 1 : 0;
            if (!c.Diverged)
                continue;
            diverged++;
            if (offenders.Count < RecoveryAnalysis.IdsShown)
            {
                var problem = (c.ReportedDiverged, c.DesiredBehind) switch
                {
                    (true, true) => $"reported properties differ from the device's; desired version {c.DesiredApplied} applied, hub at {c.DesiredAtHub}",
                    (true, false) => "reported properties at the hub differ from what the device last reported",
                    _ => $"desired version {c.DesiredApplied} applied, hub at {c.DesiredAtHub}",
                };
                offenders.Add(new TwinOffender(c.DeviceId, c.ReportedMatches, c.DesiredApplied, c.DesiredAtHub, problem));
            }
        }

        return new ConvergenceSection(isChecked, checks.Count - isChecked, reported, desired, diverged, offenders, notChecked);
    }
}
