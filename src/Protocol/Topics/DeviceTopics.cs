namespace FleetSim.Protocol;

/// <summary>One device's topic names, built once per device so the hot path never formats strings.</summary>
public sealed class DeviceTopics
{
    public DeviceTopics(string deviceId, string? moduleId = null)
    {
        DeviceId = deviceId;
        var root = moduleId is null ? $"devices/{deviceId}" : $"devices/{deviceId}/modules/{moduleId}";
        TelemetryPrefix = $"{root}/messages/events/";
        C2dPrefix = $"devices/{deviceId}/messages/devicebound/";
        C2dSubscription = C2dPrefix + "#";
    }

    public string DeviceId { get; }

    /// <summary><c>devices/{id}/messages/events/</c>: telemetry without properties.</summary>
    public string TelemetryPrefix { get; }

    /// <summary><c>devices/{id}/messages/devicebound/#</c>.</summary>
    public string C2dSubscription { get; }

    /// <summary><c>devices/{id}/messages/devicebound/</c>: what every C2D topic starts with.</summary>
    public string C2dPrefix { get; }

    /// <summary>The telemetry topic with an already encoded property bag (see <see cref="PropertyBag.Encode"/>).</summary>
    public string Telemetry(string? encodedBag) => string.IsNullOrEmpty(encodedBag) ? TelemetryPrefix : TelemetryPrefix + encodedBag;

    /// <summary>The C2D topic the hub publishes to, always with the trailing '/'.</summary>
    public string C2d(string? encodedBag) => string.IsNullOrEmpty(encodedBag) ? C2dPrefix : C2dPrefix + encodedBag;
}
