using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// Everything a run produced, as written to report.json (docs/report.md documents every field). Latencies are
/// milliseconds, rates are per second, times are ISO 8601. <see cref="SchemaVersion"/> changes whenever a field
/// changes meaning or disappears, so old files are refused with a clear message instead of misread.
/// </summary>
public sealed record RunReport(
    int SchemaVersion,
    ScenarioSection Scenario,
    RunSection Run,
    DevicesSection Devices,
    TelemetrySection Telemetry,
    IReadOnlyDictionary<string, OperationReport> Latency,
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyList<TimePoint> TimeSeries,
    IReadOnlyList<ThresholdResult> Thresholds,
    EnvironmentSection Environment)
{
    /// <summary>The schema version this build writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Faults injected into the hub during the run, in time order (empty when none; absent in older reports).</summary>
    public IReadOnlyList<FaultRecord> Faults { get; init; } = [];

    /// <summary>Worker nodes of a multi-process run (per-node table, node losses); null for a one-process run.</summary>
    public ClusterSection? Cluster { get; init; }

    /// <summary>Recovery over every fault of the run; null when the run injected no fault.</summary>
    public RecoverySummary? Recovery { get; init; }

    /// <summary>The end-of-run twin convergence check; null when no device has twin behaviour.</summary>
    public ConvergenceSection? Convergence { get; init; }

    /// <summary>The load generator's own timing (send lag, messages it was too late to make); null in older reports.</summary>
    public GeneratorSection? Generator { get; init; }
}

/// <summary>
/// How far FleetSim itself was from its schedule: <see cref="SendLag"/> is intended send time -> message started
/// (milliseconds), so a user sees the latencies measure the hub and not the generator. <see cref="Skipped"/> counts
/// messages the generator was too late to make at all; <see cref="Limited"/> is true when there were any (the run
/// was generator-limited: the machine could not make the asked rate).
/// </summary>
public sealed record GeneratorSection(LatencyBrief SendLag, long Skipped)
{
    public bool Limited => Skipped > 0;
}

/// <summary>A short latency summary in milliseconds.</summary>
public sealed record LatencyBrief(long Count, double P50, double P99, double Max);

/// <summary>
/// A fault event of the run (one per firing of a scenario fault: <c>hub.embedded.faults</c> or <c>hub.chaos.faults</c>):
/// when it was due (<see cref="AtSeconds"/>, the planned moment, in seconds on the scenario's clock), what it did (or why
/// it failed) and whether it was applied; when it took effect, its kind, when its period ends (null for instant faults
/// such as drops), and the devices whose connections it dropped or silenced (the starting set for recovery metrics).
/// </summary>
public sealed record FaultRecord(double AtSeconds, string Description, bool Applied)
{
    /// <summary>
    /// When the fault took effect, on the same clock as <see cref="AtSeconds"/>: later than planned when the run's tick
    /// came late (a loaded machine) or the hub took time to apply it. Recovery is attributed to the fault and measured
    /// from this moment, and the charts draw it here. Null when it was not applied, and in older reports.
    /// </summary>
    public double? AppliedAtSeconds { get; init; }

    /// <summary>Seconds the fault took effect after its planned moment (0 in older reports).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double LateSeconds => AppliedAtSeconds is { } applied ? Math.Max(0, applied - AtSeconds) : 0;

    /// <summary>
    /// True when the fault took effect noticeably later than planned (by more than the runner's 50 ms tick can explain):
    /// the summaries then show both moments. report.json always has both.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool AppliedLate => LateSeconds >= 0.1;

    /// <summary>Where the charts and the recovery windows place the fault: when it took effect, else when it was due.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double EffectiveSeconds => AppliedAtSeconds ?? AtSeconds;

    /// <summary>The fault kind as named on the hub's REST API (drop, hub-restart, blackhole, expire-tokens, latency, ...); null in older reports.</summary>
    public string? Kind { get; init; }

    /// <summary>Where it was injected: <c>emulator</c> or <c>chaos</c> (the proxy in front of the hub); null in older reports.</summary>
    public string? Source { get; init; }

    /// <summary>When the fault's period ends (from when it took effect), in seconds on the scenario's clock; null for instant faults.</summary>
    public double? EndSeconds { get; init; }

    /// <summary>How many device connections the fault dropped or silenced (the chaos proxy knows each tunnel's device too).</summary>
    public int Affected { get; init; }

    /// <summary>
    /// The ids of the devices counted in <see cref="Affected"/>, for computing recovery during the run. Not written to
    /// report.json (a fleet-wide drop would name every device); the recovery section reports what matters.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> AffectedDeviceIds { get; init; } = [];

    /// <summary>How the fleet recovered from it (null when it was not applied, or in reports of runs before recovery was measured).</summary>
    public FaultRecovery? Recovery { get; init; }
}

/// <summary>The scenario that ran; <see cref="Text"/> is the scenario file with secrets redacted.</summary>
public sealed record ScenarioSection(string Name, string? File, string? Text)
{
    /// <summary>The scenario's <c>description</c>, if it has one.</summary>
    public string? Description { get; init; }
}

/// <summary>When and how the run went. <see cref="ExitReason"/>: "completed", "cancelled" or "failed: why".</summary>
public sealed record RunSection(
    DateTimeOffset Start,
    DateTimeOffset End,
    string HubKind,
    string Verdict,
    string ExitReason)
{
    public double DurationSeconds => Math.Max(0, (End - Start).TotalSeconds);

    /// <summary>
    /// The run's id, sent by every device with each telemetry message (fleetsim-run); the emulator's ingest accounting
    /// of this report counts only messages that carried it. Null in reports written before runs had ids.
    /// </summary>
    public string? Id { get; init; }

    /// <summary>The command that started the run (<c>fleetsim run ...</c>, every argument as given), secrets redacted.</summary>
    public string? CommandLine { get; init; }

    /// <summary>
    /// The values the run used after --set, --duration and --scale (device counts, rates, phases, quotas, thresholds), as
    /// YAML-like text, secrets redacted: with <see cref="CommandLine"/>, what it takes to reproduce the run.
    /// </summary>
    public string? EffectiveScenario { get; init; }

    /// <summary>
    /// Seconds from <see cref="Start"/> to the start of the scenario's clock (the runner's start, after hub setup and
    /// registration), on which <see cref="FaultRecord.AtSeconds"/> and the load phases count; the time series count from
    /// <see cref="Start"/>, so a fault is drawn at <c>AppliedAtSeconds + ScenarioStartSeconds</c>. Null when the runner never
    /// started, and in older reports.
    /// </summary>
    public double? ScenarioStartSeconds { get; init; }
}

/// <summary>Values of <see cref="RunSection.HubKind"/>.</summary>
public static class HubKinds
{
    public const string Embedded = "embedded";
    public const string External = "external";
}

/// <summary>Usual values of <see cref="RunSection.Verdict"/>.</summary>
public static class Verdicts
{
    /// <summary>The run completed and every threshold held.</summary>
    public const string Passed = "passed";

    /// <summary>The run completed but a threshold failed.</summary>
    public const string Failed = "failed";

    /// <summary>The run itself failed (could not connect, crashed) or was cancelled.</summary>
    public const string Error = "error";

    /// <summary>
    /// <see cref="Passed"/> when the run completed and every threshold held, <see cref="Failed"/> when it completed
    /// but a threshold failed, <see cref="Error"/> otherwise (cancelled or failed). A threshold that was not evaluated
    /// (too few samples for its percentile) counts neither way.
    /// </summary>
    public static string Decide(string exitReason, IReadOnlyList<ThresholdResult> thresholds)
    {
        if (exitReason != ExitReasons.Completed)
        {
            return Error;
        }

        foreach (var threshold in thresholds)
        {
            if (threshold.Failed)
            {
                return Failed;
            }
        }

        return Passed;
    }
}

/// <summary>Values of <see cref="RunSection.ExitReason"/>.</summary>
public static class ExitReasons
{
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public static string Failed(string why) => "failed: " + why;
}

/// <summary>Device counts: the scenario's target, the most connected at once, and per-group tables.</summary>
public sealed record DevicesSection(
    long Target,
    long ConnectedPeak,
    long ConnectedAtEnd,
    IReadOnlyList<DeviceGroupReport> Groups);

/// <summary>One row of the per-group table (supplied by the scenario runner).</summary>
public sealed record DeviceGroupReport(
    string Name,
    long Target,
    long ConnectedPeak,
    long TelemetrySent,
    long TelemetryAcked,
    long Errors)
{
    /// <summary>Messages the group's devices dropped (queue full, or disconnected with whenDisconnected: drop).</summary>
    public long TelemetryDropped { get; init; }

    /// <summary>Messages the group's devices published again after a reconnect (not in <see cref="TelemetrySent"/>).</summary>
    public long TelemetryResent { get; init; }
}

/// <summary>
/// Telemetry accounting. Sent/acked/dropped are counted by the devices; ingested, lost, duplicated and
/// out-of-order come from the hub and are null when the hub cannot report them (a real IoT Hub).
/// </summary>
public sealed record TelemetrySection(
    long Sent,
    long Acked,
    long Dropped,
    long? Ingested,
    long? Lost,
    long? Duplicated,
    long? OutOfOrder);

/// <summary>The hub's ingest accounting, read by the runner at the end of a run.</summary>
public sealed record IngestAccounting(long Ingested, long Lost, long Duplicated, long OutOfOrder);

/// <summary>
/// One operation's outcome: <see cref="Count"/> ok, <see cref="Failed"/> failed (by reason in
/// <see cref="Failures"/>), latency of the ok ones in milliseconds, <see cref="Throughput"/> in ok per second.
/// </summary>
public sealed record OperationReport(
    long Count,
    long Failed,
    IReadOnlyDictionary<string, long> Failures,
    double P50,
    double P75,
    double P90,
    double P95,
    double P99,
    double P999,
    double Max,
    double Mean,
    double StdDev,
    double Throughput,
    IReadOnlyList<PercentilePoint> Distribution)
{
    /// <summary>Failed / (ok + failed), 0 when nothing happened.</summary>
    public double ErrorRate => Count + Failed == 0 ? 0 : (double)Failed / (Count + Failed);
}

/// <summary>
/// One second of the run. Rates are per second over the interval that ended at <see cref="Seconds"/>;
/// <see cref="Errors"/> is keyed "operation/reason" and holds only non-zero entries.
/// </summary>
public sealed record TimePoint(
    double Seconds,
    long Connected,
    double SentPerSecond,
    double AckedPerSecond,
    double? AskedRate,
    long Reconnects,
    long ConnectionsLost,
    IReadOnlyDictionary<string, OperationPoint> Operations,
    IReadOnlyDictionary<string, long> Errors);

/// <summary>One operation in one second: counts and that second's latency percentiles (ms, null when idle).</summary>
public sealed record OperationPoint(long Ok, long Failed, double? P50, double? P95, double? P99);

/// <summary>
/// One threshold of the run, e.g. name "telemetry p99", expression "p99 &lt; 200ms", actual 123.4. A threshold that could
/// not be judged (a percentile over fewer samples than it needs: p99 of 25 calls is the slowest call) is not
/// <see cref="Evaluated"/>: it neither passed nor failed, does not decide the verdict, and says why in <see cref="Note"/>.
/// </summary>
public sealed record ThresholdResult(string Name, string Expression, double? Actual, bool Passed)
{
    /// <summary>False when the threshold was measured but not judged; <see cref="Passed"/> is then false. True in older reports.</summary>
    public bool Evaluated { get; init; } = true;

    /// <summary>Why it failed without a value, or was not evaluated, e.g. "not enough samples (25 &lt; 100)"; null otherwise.</summary>
    public string? Note { get; init; }

    /// <summary><c>passed</c>, <c>failed</c> or <c>notEvaluated</c>.</summary>
    public string Status => !Evaluated ? ThresholdStatuses.NotEvaluated : Passed ? ThresholdStatuses.Passed : ThresholdStatuses.Failed;

    /// <summary>True when this threshold fails the run: evaluated and not passed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Failed => Evaluated && !Passed;
}

/// <summary>Values of <see cref="ThresholdResult.Status"/>.</summary>
public static class ThresholdStatuses
{
    public const string Passed = "passed";
    public const string Failed = "failed";

    /// <summary>Measured but not judged (too few samples for the percentile): neither passes nor fails the run.</summary>
    public const string NotEvaluated = "notEvaluated";

    /// <summary>How the summaries say it: "passed", "failed", or "not evaluated: " and the reason.</summary>
    public static string Describe(ThresholdResult threshold) => threshold.Status switch
    {
        NotEvaluated => "not evaluated: " + (threshold.Note ?? "no reason given"),
        var status => status,
    };
}

/// <summary>Where the load was generated; <see cref="Warnings"/> say when numbers deserve doubt.</summary>
public sealed record EnvironmentSection(
    string MachineName,
    string Os,
    int Cores,
    string DotnetVersion,
    string FleetSimVersion,
    IReadOnlyList<string> Warnings);
