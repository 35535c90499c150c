using FleetSim.Reporting;
using FleetSim.Scenarios.Model;
using FleetSim.Simulator.Live;
using FleetSim.Simulator.Telemetry;

namespace FleetSim.Simulator.Run;

/// <summary>What <c>fleetsim run</c> was asked to do, after the scenario validated.</summary>
public sealed record RunRequest(Scenario Scenario, string ScenarioPath, string ScenarioText, string OutDir, ConnectionStringHub? Hub, LiveMode Live,
    MetricsExportOptions? Export = null)
{
    /// <summary>Worker processes to run the devices on (<c>--nodes</c>); 0 runs them in this process.</summary>
    public int Nodes { get; init; }

    /// <summary>Workers started elsewhere that the run waits for (<c>--wait-workers</c>) and the coordinator's endpoint; null for none.</summary>
    public Cluster.ClusterSetup? ClusterSetup { get; init; }

    /// <summary>The --set and --duration overrides as given (worker nodes derive the same scenario from them).</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The --scale factor, if any.</summary>
    public double? Scale { get; init; }

    /// <summary>The command as typed (<c>fleetsim run ...</c>); the report keeps it redacted.</summary>
    public string? CommandLine { get; init; }

    /// <summary>
    /// This run's id: devices send it with every telemetry message (fleetsim-run) and the run reads the emulator's
    /// ingest accounting of this id only, so runs sharing a standing hub (one after another or at once) stay apart.
    /// </summary>
    public string RunId { get; init; } = NewRunId();

    /// <summary>A new run id: UTC time to the second and 8 random hex digits (only [0-9a-z-], safe in a property bag and a URL).</summary>
    public static string NewRunId() =>
        DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-"
        + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));

    /// <summary>--tier/--units: the hub's tier (overrides the scenario's hub.tier or hub.embedded.tier).</summary>
    public FleetSim.Protocol.Tiers.HubTier? Tier { get; init; }

    /// <summary>--keep-devices: leave the devices this run created on the hub.</summary>
    public bool KeepDevices { get; init; }

    /// <summary>False with --no-pace: the run is not paced to the tier's connect and telemetry limits (warnings only).</summary>
    public bool Pace { get; init; } = true;
}

/// <summary>How a run ended, for the exit code and the summary.</summary>
public sealed record RunResult(int ExitCode, RunReport? Report, ReportFiles? Files, string Outcome);
