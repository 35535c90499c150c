namespace FleetSim.Metrics;

/// <summary>Operation names: the keys of <c>latency.&lt;name&gt;</c> in report.json, shared by every recorder.</summary>
public static class Operations
{
    public const string Connect = "connect";
    public const string Telemetry = "telemetry";
    public const string TwinGet = "twinGet";
    public const string ReportedPatch = "reportedPatch";
    public const string DesiredDelivery = "desiredDelivery";
    public const string MethodRoundTrip = "methodRoundTrip";
    public const string C2dDelivery = "c2dDelivery";
    public const string Reconnect = "reconnect";
    public const string SasRenewal = "sasRenewal";
    public const string FileUpload = "fileUpload";

    /// <summary>All known operation names, in the order reports list them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Connect, Telemetry, TwinGet, ReportedPatch, DesiredDelivery, MethodRoundTrip, C2dDelivery, Reconnect,
        SasRenewal, FileUpload,
    ];
}

/// <summary>
/// The load generator's own timing, so a report shows FleetSim measured the hub and not itself: how late each
/// telemetry message was started against its intended time, and how many it could not make at all.
/// </summary>
public static class GeneratorMetrics
{
    /// <summary>Operation (latency only): intended send time -> the device started the message (handed to the transport, or queued).</summary>
    public const string SendLag = "generator.sendLag";

    /// <summary>Counter: messages not made because the generator was behind by more than the max send lag (generator-limited).</summary>
    public const string Skipped = "generator.skipped";
}

/// <summary>Well-known counter names.</summary>
public static class Counters
{
    public const string TelemetrySent = "telemetry.sent";
    public const string TelemetryAcked = "telemetry.acked";
    public const string TelemetryDropped = "telemetry.dropped";
    public const string ConnectRetries = "connect.retries";
    public const string ConnectionLost = "connection.lost";
}

/// <summary>Well-known gauge names.</summary>
public static class Gauges
{
    public const string DevicesConnected = "devices.connected";

    /// <summary>Telemetry messages per second the load simulation currently asks for (set by the runner).</summary>
    public const string TelemetryAskedRate = "telemetry.askedRate";

    /// <summary>Connected devices just before the run stopped them (set by the runner; report.json devices.connectedAtEnd).</summary>
    public const string DevicesConnectedAtEnd = "devices.connectedAtEnd";
}

/// <summary>
/// Per device-group metric names. Devices of group g bump these alongside the fleet-wide ones; the report's
/// per-group table is built from them (see <see cref="ReportInputs.GroupTargets"/>).
/// </summary>
public static class GroupMetrics
{
    public static string TelemetrySent(string group) => "group." + group + ".telemetry.sent";

    public static string TelemetryAcked(string group) => "group." + group + ".telemetry.acked";

    /// <summary>Counter: messages of the group published again after a reconnect (not in <see cref="TelemetrySent"/>).</summary>
    public static string TelemetryResent(string group) => "group." + group + ".telemetry.resent";

    /// <summary>Counter: messages the group's devices dropped (queue full, or disconnected with whenDisconnected: drop).</summary>
    public static string TelemetryDropped(string group) => "group." + group + ".telemetry.dropped";

    /// <summary>Counter: failed operations of any kind in the group.</summary>
    public static string Errors(string group) => "group." + group + ".errors";

    /// <summary>Gauge: connected devices of the group.</summary>
    public static string DevicesConnected(string group) => "group." + group + ".devices.connected";
}

/// <summary>
/// Names the recovery analysis reads from the time series (each counter's growth over a fault's recovery window).
/// Devices bump the counters; the runner sets the hub gauges from the hub's ingest accounting once a second.
/// </summary>
public static class RecoveryMetrics
{
    /// <summary>Counter: every CONNECT a device sent (first connects, reconnects, renewals, retries).</summary>
    public const string ConnectAttempts = "connect.attempts";

    /// <summary>Counter prefix: waits before a reconnect, by the failure that caused them (connect.retries.network, ...).</summary>
    public const string RetriesPrefix = "connect.retries.";

    /// <summary>Counter: telemetry messages queued because the device was not connected (sent later, or dropped).</summary>
    public const string TelemetryQueuedOffline = "telemetry.queuedOffline";

    /// <summary>Counter: telemetry messages published again after a lost connection left them unacknowledged.</summary>
    public const string TelemetryResent = "telemetry.resent";

    /// <summary>Gauges: the hub's running totals of lost, duplicated and out-of-order telemetry (only hubs that count them).</summary>
    public const string HubLost = "hub.ingest.lost";
    public const string HubDuplicated = "hub.ingest.duplicated";
    public const string HubOutOfOrder = "hub.ingest.outOfOrder";

    public static string RetriesBecause(string reason) => RetriesPrefix + reason;
}
