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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad quota.</summary>
    public void Validate()
    {
        Check(ConnectsPerSecond, nameof(ConnectsPerSecond));
        Check(TelemetryPerSecond, nameof(TelemetryPerSecond));
        Check(TwinOperationsPerSecond, nameof(TwinOperationsPerSecond));
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
