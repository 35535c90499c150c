namespace FleetSim.HubEmulator.Throttling;

/// <summary>
/// Hub-wide per-second quotas of the emulator, like IoT Hub's throttles; null means unlimited. Each quota allows a
/// burst of one second's worth of operations (at least one) and then the steady rate.
/// </summary>
public sealed class ThrottlingQuotas
{
    /// <summary>The highest quota accepted (the scenario language's rate limit).</summary>
    public const double MaxRate = 1_000_000_000;

    /// <summary>Device connects per second; a CONNECT over it gets CONNACK 3 (server unavailable), counted as refusal reason "throttled".</summary>
    public double? ConnectsPerSecond { get; set; }

    /// <summary>Telemetry messages per second; over it the PUBACK is held back until the quota allows it (never dropped).</summary>
    public double? TelemetryPerSecond { get; set; }

    /// <summary>Device twin GETs and reported patches per second; over it the response is status 429 (errorCode 429001).</summary>
    public double? TwinOperationsPerSecond { get; set; }

    /// <summary>
    /// Identity registry operations per second (create, get, update, delete; a bulk <c>POST /devices</c> of up to 100 devices
    /// counts as one); over it the answer is 429 ThrottlingException with <c>Retry-After</c>.
    /// </summary>
    public double? RegistryOperationsPerSecond { get; set; }

    /// <summary>The quotas of a real hub of this tier and unit count (registry, new connections, device-to-cloud sends).</summary>
    public static ThrottlingQuotas ForTier(FleetSim.Protocol.Tiers.HubTier tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        return new ThrottlingQuotas
        {
            ConnectsPerSecond = tier.ConnectsPerSecond,
            TelemetryPerSecond = tier.TelemetryPerSecond,
            RegistryOperationsPerSecond = tier.RegistryOperationsPerSecond,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad quota.</summary>
    public void Validate()
    {
        Check(ConnectsPerSecond, nameof(ConnectsPerSecond));
        Check(TelemetryPerSecond, nameof(TelemetryPerSecond));
        Check(TwinOperationsPerSecond, nameof(TwinOperationsPerSecond));
        Check(RegistryOperationsPerSecond, nameof(RegistryOperationsPerSecond));
    }

    private static void Check(double? rate, string name)
    {
        if (rate is { } r && (!double.IsFinite(r) || r <= 0 || r > MaxRate))
        {
            throw new ArgumentException(
                $"Quotas.{name} must be more than 0 and at most {MaxRate:0} per second, or unset for unlimited (was {r}).", name);
        }
    }
}
