using System.Reflection;
using System.Runtime.InteropServices;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>What the runner knows that the metrics do not: the scenario, how the run went, hub accounting.</summary>
public sealed record ReportInputs
{
    public required ScenarioSection Scenario { get; init; }

    public required RunSection Run { get; init; }

    /// <summary>How many devices the scenario asked for.</summary>
    public required long DeviceTarget { get; init; }

    /// <summary>The hub's ingest accounting; null when the hub cannot report it.</summary>
    public IngestAccounting? Ingest { get; init; }

    /// <summary>Per-group rows given directly; when empty, rows are built from <see cref="GroupTargets"/>.</summary>
    public IReadOnlyList<DeviceGroupReport> Groups { get; init; } = [];

    /// <summary>
    /// Device target per group, in table order; each row's numbers come from the <see cref="GroupMetrics"/>
    /// counters and gauge of that group (zero when never recorded).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, long>> GroupTargets { get; init; } = [];

    public IReadOnlyList<ThresholdResult> Thresholds { get; init; } = [];

    /// <summary>Defaults to <see cref="EnvironmentInfo.Capture"/> of this process.</summary>
    public EnvironmentSection? Environment { get; init; }

    /// <summary>Faults the run injected into the hub.</summary>
    public IReadOnlyList<FaultRecord> Faults { get; init; } = [];

    /// <summary>Node events of a multi-process run; non-null makes the report's cluster section (from the per-node metrics).</summary>
    public IReadOnlyList<NodeEvent>? ClusterEvents { get; init; }

    /// <summary>Recovery over all faults (<see cref="RecoveryAnalysis"/>); the per-fault rows travel in <see cref="Faults"/>.</summary>
    public RecoverySummary? Recovery { get; init; }

    /// <summary>The end-of-run twin check (<see cref="ConvergenceBuilder"/>).</summary>
    public ConvergenceSection? Convergence { get; init; }

    /// <summary>Added to the environment's warnings (e.g. "load generator saturated").</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>Describes the machine and runtime generating the load.</summary>
public static class EnvironmentInfo
{
    public static EnvironmentSection Capture(IReadOnlyList<string>? warnings = null)
    {
        var assembly = Assembly.GetEntryAssembly() ?? typeof(EnvironmentInfo).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
        return new EnvironmentSection(
            Environment.MachineName,
            RuntimeInformation.OSDescription,
            Environment.ProcessorCount,
            RuntimeInformation.FrameworkDescription,
            version,
            warnings ?? []);
    }
}
