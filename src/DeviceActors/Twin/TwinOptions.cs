using System.Text.Json.Nodes;

namespace FleetSim.DeviceActors.Twin;

/// <summary>Builds a reported-properties patch for a device (periodic reported updates).</summary>
public interface IReportedPatchFactory
{
    /// <summary>The JSON patch for report number <paramref name="count"/> (1, 2, …) of device <paramref name="deviceIndex"/>.</summary>
    byte[] Create(int deviceIndex, long count);
}

/// <summary>The same patch every time.</summary>
public sealed class FixedReportedPatch(string json) : IReportedPatchFactory
{
    private readonly byte[] _json = System.Text.Encoding.UTF8.GetBytes(json);

    public byte[] Create(int deviceIndex, long count) => _json;
}

/// <summary>
/// Twin behaviour (PROTOCOL.md sections 3-4): subscribe to responses and desired patches, GET after every
/// (re)connect and apply missed desired state (ensure_desired_properties), ignore patches whose $version is not
/// newer, optionally report desired values back and send periodic reported patches.
/// </summary>
public sealed record TwinOptions
{
    /// <summary>How long a GET or reported patch waits for its response.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The SDKs' ensure_desired_properties (default true): GET the twin after every (re)connect and apply desired state
    /// missed while offline. False: no GET; patches sent while the device was disconnected are never seen.
    /// </summary>
    public bool EnsureDesiredProperties { get; init; } = true;

    /// <summary>Report each received desired patch back as reported properties (the SDK samples' acknowledge pattern).</summary>
    public bool ReportDesiredBack { get; init; }

    /// <summary>Send <see cref="ReportedPatch"/> at this interval while running; null: never.</summary>
    public TimeSpan? ReportedInterval { get; init; }

    public IReportedPatchFactory? ReportedPatch { get; init; }

    public string? Validate()
    {
        if (RequestTimeout <= TimeSpan.Zero) return $"twin request timeout must be positive (found {RequestTimeout})";
        if (ReportedInterval is { } i && i <= TimeSpan.Zero) return $"twin reported interval must be positive (found {i})";
        if (ReportedInterval is not null && ReportedPatch is null) return "twin reported interval is set but no reported patch is given";
        return null;
    }

    /// <summary>Reads the service's send time that FleetSim service actions embed in desired patches (unix ms).</summary>
    internal static bool TryGetSentAt(JsonObject patch, out long unixMs)
    {
        unixMs = 0;
        return patch.TryGetPropertyValue(Protocol.FleetSimProperties.SentAt, out var node) && node is JsonValue v && v.TryGetValue(out unixMs);
    }
}
