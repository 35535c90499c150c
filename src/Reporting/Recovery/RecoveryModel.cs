namespace FleetSim.Reporting;

/// <summary>
/// How the fleet recovered from one fault (report.json <c>faults[].recovery</c>). Computed from the devices' own
/// connection events (<see cref="FleetSim.Metrics.RecoveryLog"/>), so it means the same for every fault kind and hub:
/// a device is affected when it lost its connection between the fault's start and its end plus the attribution window;
/// its recovery time runs from the fault's start to its successful reconnect (the last one, for a device that lost its
/// connection more than once in the window). Latencies in milliseconds, like every latency of the report; times in seconds
/// from the fault's start (<see cref="FaultRecord.AtSeconds"/> is on the scenario's clock, which starts after registration).
/// </summary>
public sealed record FaultRecovery(
    int DevicesAffected,
    int DevicesRecovered,
    double? P50,
    double? P99,
    double? Max,
    double? WholeAgainAfterSeconds,
    double WindowSeconds,
    double ConnectAttemptsPeakPerSecond,
    double? ConnectLimitPerSecond,
    int SecondsOverConnectLimit,
    IReadOnlyList<StormPoint> Storm,
    IReadOnlyDictionary<string, long> RetriesByReason,
    long TelemetryQueuedOffline,
    long TelemetryResent,
    long TelemetryDropped,
    long? HubLost,
    long? HubDuplicated,
    long? HubOutOfOrder,
    int NeverReconnected,
    IReadOnlyList<string> NeverReconnectedIds);

/// <summary>Connect attempts in the second that ended at <see cref="Seconds"/> (since the fault's start).</summary>
public sealed record StormPoint(double Seconds, long Attempts);

/// <summary>
/// Recovery over every fault of the run (report.json <c>recovery</c>): percentiles of the union of every affected
/// device's recovery time (ms), and the devices that never came back after any fault. What the thresholds
/// <c>recovery: ["p99 &lt; 30s", "neverReconnected == 0"]</c> are checked against.
/// </summary>
public sealed record RecoverySummary(
    int Faults,
    int DevicesAffected,
    int DevicesRecovered,
    double? P50,
    double? P99,
    double? Max,
    int NeverReconnected,
    IReadOnlyList<string> NeverReconnectedIds,
    long EventsDiscarded);

/// <summary>
/// The end-of-run twin convergence check (report.json <c>convergence</c>): each device with twin behaviour asked the
/// hub for its twin as it stopped and compared the hub's reported properties with what it last reported, and the hub's
/// desired version with the one it applied. <see cref="Offenders"/> names the first 20 that diverged.
/// </summary>
public sealed record ConvergenceSection(
    int Checked,
    int Unchecked,
    int ReportedDiverged,
    int DesiredBehind,
    int Diverged,
    IReadOnlyList<TwinOffender> Offenders,
    IReadOnlyList<string> UncheckedIds);

/// <summary>One device whose twin did not converge: <see cref="Problem"/> says how.</summary>
public sealed record TwinOffender(string DeviceId, bool ReportedMatches, long DesiredApplied, long DesiredAtHub, string Problem);
