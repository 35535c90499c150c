using FleetSim.Protocol;

namespace FleetSim.Scenarios.Model;

/// <summary>Where the devices connect: the embedded emulator (default) or an existing hub.</summary>
public abstract record HubSpec
{
    /// <summary>
    /// <c>hub.pace</c> (default true): with a known tier, the run paces its connects and telemetry under the tier's limits;
    /// false keeps only the warnings and lets the hub throttle (CONNACK 3, late acknowledgements).
    /// </summary>
    public bool Pace { get; init; } = true;

    /// <summary>
    /// <c>hub.chaos</c>: network faults the run's chaos proxy applies between the devices and an existing hub (named by
    /// connectionString, --hub or --hub-state); empty: no proxy. Only the kinds a proxy can apply (dropConnections,
    /// refuseConnects, blackhole, latency, hubRestart).
    /// </summary>
    public IReadOnlyList<FaultSpec> Chaos { get; init; } = [];

    /// <summary>Where <c>hub.chaos</c> is in the scenario file (line:column), for errors that depend on the command line.</summary>
    public string? ChaosAt { get; init; }
}

/// <summary>The in-process emulator, with its throttling quotas and scheduled faults.</summary>
public sealed record EmbeddedHub(EmulatorOptions Options) : HubSpec
{
    public static EmbeddedHub Default { get; } = new(EmulatorOptions.Default);
}

/// <summary>
/// An existing hub, named by its SERVICE connection string (used to register devices and drive service
/// actions). <see cref="ServiceConnectionString.ToString"/> is redacted, so the record prints safely.
/// </summary>
public sealed record ConnectionStringHub(ServiceConnectionString ConnectionString) : HubSpec
{
    public const int DefaultMqttPort = 8883;
    public const int DefaultHttpsPort = 443;

    /// <summary>MQTT over TLS port (IoT Hub: 8883; another port for a hub such as <c>fleetsim hub</c> elsewhere).</summary>
    public int MqttPort { get; init; } = DefaultMqttPort;

    /// <summary>HTTPS port: REST API, MQTT over WebSockets, file upload (IoT Hub: 443).</summary>
    public int HttpsPort { get; init; } = DefaultHttpsPort;

    /// <summary>The CA the hub's certificates chain to; null trusts the system store.</summary>
    public TrustedCaFile? TrustedCa { get; init; }

    /// <summary>The hub's tier and units (<c>hub.tier</c>, <c>hub.units</c>): registration is paced to it and the run warned against it; null = unknown.</summary>
    public FleetSim.Protocol.Tiers.HubTier? Tier { get; init; }
    /// <summary>A partitioned <c>fleetsim hub</c>'s partitions (from its state file): each device connects to its own; empty otherwise.</summary>
    public IReadOnlyList<Running.PartitionEndpoint> Partitions { get; init; } = [];
}

public sealed record EmulatorOptions(HubQuotas Quotas, IReadOnlyList<FaultSpec> Faults, TimeSpan SasExpiryGrace)
{
    /// <summary>Devices one partition serves when the count is <c>auto</c> (one process of run and hub holds ~9,000 TLS devices).</summary>
    public const int DevicesPerPartition = 9_000;

    /// <summary>The most partitions (each a process on 127.0.0.(10+k)).</summary>
    public const int MaxPartitions = 64;

    public static EmulatorOptions Default { get; } = new(HubQuotas.Unlimited, [], TimeSpan.Zero);

    /// <summary>
    /// <c>hub.embedded.tier</c>/<c>units</c>: the emulator enforces this tier's registry, connect and device-to-cloud
    /// throttles (explicit <see cref="Quotas"/> override them one by one); null = unlimited.
    /// </summary>
    public FleetSim.Protocol.Tiers.HubTier? Tier { get; init; }
    /// <summary><c>hub.embedded.partitions</c>: emulator processes to split the hub over; null is <c>auto</c> (the default).</summary>
    public int? Partitions { get; init; }

    /// <summary>The partition count for a fleet of <paramref name="devices"/>: as configured, or one per <see cref="DevicesPerPartition"/>.</summary>
    public int PartitionsFor(long devices) =>
        Partitions ?? (int)Math.Clamp((devices + DevicesPerPartition - 1) / DevicesPerPartition, 1, MaxPartitions);
}

/// <summary>Per-second quotas; null means unlimited.</summary>
public sealed record HubQuotas(double? ConnectsPerSecond, double? TelemetryPerSecond, double? TwinOperationsPerSecond)
{
    public static HubQuotas Unlimited { get; } = new(null, null, null);
}

/// <summary>
/// A fault injected at <see cref="At"/> (time from the start of the run); with <see cref="Every"/> it repeats at
/// At, At+Every, ... up to <see cref="Until"/> (default: the end of the run). <see cref="Target"/> limits it to a
/// device group or an id pattern.
/// </summary>
public abstract record FaultSpec(TimeSpan At)
{
    public TimeSpan? Every { get; init; }

    public TimeSpan? Until { get; init; }

    public FaultTargetSpec? Target { get; init; }

    /// <summary>How long the fault lasts once applied (zero for an instant one such as a drop): the recovery analysis's window.</summary>
    public virtual TimeSpan Lasts => TimeSpan.Zero;
}

/// <summary>Which devices a fault may hit: one device group (by name) or id patterns (<c>*</c> matches any run of characters).</summary>
public sealed record FaultTargetSpec(string? Group, IReadOnlyList<string> Ids)
{
    public override string ToString() => Group is not null ? "group " + Group : string.Join(", ", Ids);
}

/// <summary>Close connections: a fraction of the connected devices, or one device when DeviceId is set.</summary>
public sealed record DropConnectionsFault(TimeSpan At, double Fraction, string? DeviceId) : FaultSpec(At);

/// <summary>Answer every CONNECT with CONNACK 3 (server unavailable) for a period.</summary>
public sealed record RefuseConnectsFault(TimeSpan At, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}

/// <summary>Fail a ratio of twin operations with a status for a period.</summary>
public sealed record FailTwinFault(TimeSpan At, int Status, double Ratio, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}

/// <summary>Delay every PUBACK by a fixed time for a period.</summary>
public sealed record DelayAcksFault(TimeSpan At, TimeSpan By, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}

/// <summary>Drop every connection and keep the listeners down for a period (connects refused by the OS); state is kept.</summary>
public sealed record HubRestartFault(TimeSpan At, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}

/// <summary>Keep a fraction of the connections open but silent (nothing read, nothing answered) for a period.</summary>
public sealed record BlackholeFault(TimeSpan At, double Fraction, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}

/// <summary>Treat the current SAS tokens of a fraction of the connected devices as expired and disconnect them.</summary>
public sealed record ExpireTokensFault(TimeSpan At, double Fraction) : FaultSpec(At);

/// <summary>Hold every hub answer back by By ± Jitter for a period.</summary>
public sealed record LatencyFault(TimeSpan At, TimeSpan By, TimeSpan Jitter, TimeSpan For) : FaultSpec(At)
{
    public override TimeSpan Lasts => For;
}
