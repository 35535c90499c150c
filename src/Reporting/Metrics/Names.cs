namespace FleetSim.Reporting;

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
}
