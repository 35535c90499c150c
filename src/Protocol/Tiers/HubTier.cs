using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FleetSim.Protocol.Tiers;

/// <summary>
/// An IoT Hub tier and unit count, and the operation throttles IoT Hub enforces for it (per hub, scaled by units).
/// Source: "IoT Hub quotas and throttling" (learn.microsoft.com/azure/iot-hub/iot-hub-devguide-quotas-throttling),
/// table "Basic and standard tier operations"; docs/fidelity.md quotes it.
/// </summary>
public sealed record HubTier
{
    /// <summary>The tier names IoT Hub sells, in the order the docs list them.</summary>
    public static readonly IReadOnlyList<string> Names = ["F1", "B1", "B2", "B3", "S1", "S2", "S3"];

    private HubTier(string name, int units)
    {
        Name = name;
        Units = units;
    }

    /// <summary>F1, B1, B2, B3, S1, S2 or S3.</summary>
    public string Name { get; }

    /// <summary>Provisioned units (F1: 1; B3/S3: up to 10; the others: up to 200).</summary>
    public int Units { get; }

    private char Level => Name[1];

    /// <summary>Identity registry operations (create, retrieve, list, update, delete) per second: 100/min/unit, 5,000/min/unit on B3/S3.</summary>
    public double RegistryOperationsPerSecond => (Level == '3' ? 5000.0 : 100.0) / 60 * Units;

    /// <summary>New device connections per second: F1/B1/S1 the higher of 100/s or 12/s/unit; B2/S2 120/s/unit; B3/S3 6,000/s/unit.</summary>
    public double ConnectsPerSecond => Level switch
    {
        '2' => 120.0 * Units,
        '3' => 6000.0 * Units,
        _ => Math.Max(100.0, 12.0 * Units),
    };

    /// <summary>Device-to-cloud send operations per second: the same figures as new connections.</summary>
    public double TelemetryPerSecond => ConnectsPerSecond;

    /// <summary>
    /// The daily message quota (messages metered in 4 KB blocks, 0.5 KB on F1): F1 8,000; B1/S1 400,000 per unit; B2/S2
    /// 6,000,000 per unit; B3/S3 300,000,000 per unit (IoT Hub pricing). Over it the hub refuses device-to-cloud sends.
    /// </summary>
    public long DailyMessages => Name == "F1" ? 8_000 : Level switch
    {
        '2' => 6_000_000L * Units,
        '3' => 300_000_000L * Units,
        _ => 400_000L * Units,
    };

    /// <summary>The most units a hub of this tier can have.</summary>
    public int MaxUnits => Name switch
    {
        "F1" => 1,
        "B3" or "S3" => 10,
        _ => 200,
    };

    public override string ToString() => $"{Name} x {Units.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses a tier name (case-insensitive: "s1", "S1") with a unit count; a clear error for anything else.</summary>
    public static bool TryCreate(string? name, int units, [NotNullWhen(true)] out HubTier? tier, [NotNullWhen(false)] out string? error)
    {
        tier = null;
        var normalized = name?.Trim().ToUpperInvariant();
        if (normalized is null || !Names.Contains(normalized))
        {
            error = $"unknown IoT Hub tier '{name}': expected one of {string.Join(", ", Names)}";
            return false;
        }

        var candidate = new HubTier(normalized, units);
        if (units < 1 || units > candidate.MaxUnits)
        {
            error = candidate.MaxUnits == 1
                ? $"{normalized} hubs have exactly 1 unit, not {units}"
                : $"{normalized} hubs have 1 to {candidate.MaxUnits} units, not {units}";
            return false;
        }

        tier = candidate;
        error = null;
        return true;
    }

    public static HubTier Create(string name, int units = 1) =>
        TryCreate(name, units, out var tier, out var error) ? tier : throw new ArgumentException(error, nameof(name));
}
