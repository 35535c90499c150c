using FleetSim.Metrics;

namespace FleetSim.DeviceActors;

/// <summary>
/// The metric instruments devices record into, looked up once per run (never per message). Besides the shared
/// names of FleetSim.Reporting it adds the device side's own counters, all listed in docs/device.md.
/// </summary>
public sealed class DeviceMetrics
{
    public const string TelemetryResent = "telemetry.resent";
    public const string TelemetryTooLarge = "telemetry.tooLarge";
    public const string TelemetryUnacked = "telemetry.unackedAtStop";
    public const string RetryWaitMs = "connect.retryWaitMs";
    public const string AutoConnectsName = "connect.autoConnects";

    /// <summary>Operation (latency only): how long a connect waited for a slot (<see cref="DeviceOptions.ConnectSlots"/>); only connects that waited.</summary>
    public const string ConnectQueueName = "connectQueue";

    /// <summary>Gauge: devices waiting for a connect slot now.</summary>
    public const string ConnectQueuedName = "connect.queued";
    public const string DeviceRestarts = "device.restarts";
    public const string TwinDesiredReceived = "twin.desiredReceived";
    public const string TwinDesiredStale = "twin.desiredStale";
    public const string TwinMissedApplied = "twin.desiredMissedApplied";
    public const string MethodsAnswered = "methods.answered";
    public const string C2dReceived = "c2d.received";
    public const string ConnectionLostPrefix = "connection.lost.";
    public const string StoppedPrefix = "device.stopped.";
    public const string ErrorsPrefix = "device.errors.";

    private readonly FleetMetrics _metrics;

    /// <summary>The run's metrics these instruments live in.</summary>
    public FleetMetrics Fleet { get; }

    public DeviceMetrics(FleetMetrics metrics)
    {
        _metrics = metrics;
        Fleet = metrics;
        Connect = metrics.Operation(Operations.Connect);
        Reconnect = metrics.Operation(Operations.Reconnect);
        Telemetry = metrics.Operation(Operations.Telemetry);
        TwinGet = metrics.Operation(Operations.TwinGet);
        ReportedPatch = metrics.Operation(Operations.ReportedPatch);
        DesiredDelivery = metrics.Operation(Operations.DesiredDelivery);
        C2dDelivery = metrics.Operation(Operations.C2dDelivery);
        SasRenewal = metrics.Operation(Operations.SasRenewal);
        FileUpload = metrics.Operation(Operations.FileUpload);
        Sent = metrics.Counter(Counters.TelemetrySent);
        Acked = metrics.Counter(Counters.TelemetryAcked);
        Dropped = metrics.Counter(Counters.TelemetryDropped);
        Resent = metrics.Counter(TelemetryResent);
        TooLarge = metrics.Counter(TelemetryTooLarge);
        Unacked = metrics.Counter(TelemetryUnacked);
        Retries = metrics.Counter(Counters.ConnectRetries);
        RetryWait = metrics.Counter(RetryWaitMs);
        AutoConnects = metrics.Counter(AutoConnectsName);
        ConnectionLost = metrics.Counter(Counters.ConnectionLost);
        Restarts = metrics.Counter(DeviceRestarts);
        DesiredReceived = metrics.Counter(TwinDesiredReceived);
        DesiredStale = metrics.Counter(TwinDesiredStale);
        MissedApplied = metrics.Counter(TwinMissedApplied);
        Methods = metrics.Counter(MethodsAnswered);
        C2d = metrics.Counter(C2dReceived);
        Connected = metrics.Gauge(Gauges.DevicesConnected);
        ConnectAttempts = metrics.Counter(RecoveryMetrics.ConnectAttempts);
        QueuedOffline = metrics.Counter(RecoveryMetrics.TelemetryQueuedOffline);
        SendLag = metrics.Operation(GeneratorMetrics.SendLag);
        ConnectQueue = metrics.Operation(ConnectQueueName);
        ConnectQueued = metrics.Gauge(ConnectQueuedName);
        Skipped = metrics.Counter(GeneratorMetrics.Skipped);
    }

    /// <summary>The generator's own lag: intended send time -> message started.</summary>
    public OperationMetrics SendLag { get; }

    /// <summary>Waits for a connect slot (a wait, not a failure: the connect itself is measured from its intended start).</summary>
    public OperationMetrics ConnectQueue { get; }

    /// <summary>Devices waiting for a connect slot now.</summary>
    public Gauge ConnectQueued { get; }

    /// <summary>Messages the generator was too late to make (generator-limited).</summary>
    public Counter Skipped { get; }

    /// <summary>Connection losses, reconnects and stops of every device (recovery after faults is computed from them).</summary>
    public RecoveryLog Recovery => _metrics.Recovery;

    /// <summary>Twin checks at stop (the end-of-run convergence check).</summary>
    public ConvergenceLog Twin => _metrics.Twin;

    /// <summary>Every CONNECT sent (a reconnect storm's shape, against the hub's connect limit).</summary>
    public Counter ConnectAttempts { get; }

    /// <summary>Telemetry queued while the device was not connected.</summary>
    public Counter QueuedOffline { get; }

    /// <summary>connect.retries.{reason}: a wait before reconnecting, by the failure that caused it.</summary>
    public Counter RetryBecause(string reason) => _metrics.Counter(RecoveryMetrics.RetriesBecause(reason));

    public OperationMetrics Connect { get; }
    public OperationMetrics Reconnect { get; }
    public OperationMetrics Telemetry { get; }
    public OperationMetrics TwinGet { get; }
    public OperationMetrics ReportedPatch { get; }
    public OperationMetrics DesiredDelivery { get; }
    public OperationMetrics C2dDelivery { get; }
    public OperationMetrics SasRenewal { get; }
    public OperationMetrics FileUpload { get; }
    public Counter Sent { get; }
    public Counter Acked { get; }
    public Counter Dropped { get; }
    public Counter Resent { get; }
    public Counter TooLarge { get; }
    public Counter Unacked { get; }
    public Counter Retries { get; }
    public Counter RetryWait { get; }

    /// <summary>Connects made because an operation was due while disconnected (retry none + auto_connect).</summary>
    public Counter AutoConnects { get; }
    public Counter ConnectionLost { get; }
    public Counter Restarts { get; }
    public Counter DesiredReceived { get; }
    public Counter DesiredStale { get; }
    public Counter MissedApplied { get; }
    public Counter Methods { get; }
    public Counter C2d { get; }
    public Gauge Connected { get; }

    /// <summary>connection.lost.{reason}: reasons are the few <see cref="FailureKind"/> labels, so the lookup is cheap and rare.</summary>
    public Counter LostBecause(string reason) => _metrics.Counter(ConnectionLostPrefix + reason);

    /// <summary>device.stopped.{reason} (unauthorized, stopped, crashed, ...).</summary>
    public Counter StoppedBecause(string reason) => _metrics.Counter(StoppedPrefix + reason);

    /// <summary>device.errors.{reason}: background errors that did not end the connection.</summary>
    public Counter ErrorBecause(string reason) => _metrics.Counter(ErrorsPrefix + reason);
}
