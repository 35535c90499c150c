using System.Text;

namespace FleetSim.DeviceActors.Telemetry;

/// <summary>
/// Writes one telemetry body for (device index, sequence number) into a caller-owned buffer, so a group shares
/// one template and the hot path allocates nothing. The scenario layer adapts its payload templates to this.
/// </summary>
public interface ITelemetryPayload
{
    /// <summary>Upper bound of the bytes <see cref="Write"/> produces; the device rents a buffer of this size.</summary>
    int MaxLength { get; }

    /// <summary>Writes the body and returns its length in bytes (at most <see cref="MaxLength"/>).</summary>
    int Write(int deviceIndex, long sequence, Span<byte> destination);
}

/// <summary>The same bytes for every message (the default: a small JSON document).</summary>
public sealed class FixedPayload : ITelemetryPayload
{
    private readonly byte[] _body;

    public FixedPayload(ReadOnlySpan<byte> body) => _body = body.ToArray();

    public FixedPayload(string text) : this(Encoding.UTF8.GetBytes(text))
    {
    }

    public static FixedPayload DefaultJson { get; } = new("""{"temperature":21.5,"humidity":48}""");

    public int MaxLength => _body.Length;

    public int Write(int deviceIndex, long sequence, Span<byte> destination)
    {
        _body.CopyTo(destination);
        return _body.Length;
    }
}

/// <summary>
/// Application properties that differ from message to message (the scenario's property templates); rendered once
/// per message, kept with it (a re-send carries the same values) and counted in its size.
/// </summary>
public interface ITelemetryProperties
{
    /// <summary>The properties of message <paramref name="sequence"/> of device <paramref name="deviceIndex"/>.</summary>
    IReadOnlyList<KeyValuePair<string, string?>> Render(int deviceIndex, long sequence);
}

/// <summary>What a device sends, how often, and how much it may buffer.</summary>
public sealed record TelemetryOptions
{
    /// <summary>One message per device per interval, on a fixed schedule (intended send times do not drift).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public ITelemetryPayload Payload { get; init; } = FixedPayload.DefaultJson;

    /// <summary>Each device delays its first message by a seeded random 0..StartJitter, so a group does not send in lockstep.</summary>
    public TimeSpan StartJitter { get; init; } = TimeSpan.Zero;

    /// <summary>Sent as $.ct (null: none). With $.ce=utf-8 this lets IoT Hub route on the body.</summary>
    public string? ContentType { get; init; } = "application/json";

    /// <summary>Sent as $.ce (null: none).</summary>
    public string? ContentEncoding { get; init; } = "utf-8";

    /// <summary>Extra application properties on every message (encoded once per group).</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Properties { get; init; } = [];

    /// <summary>Application properties rendered per message, after <see cref="Properties"/>; null: none (the hot path builds no per-message bag).</summary>
    public ITelemetryProperties? DynamicProperties { get; init; }

    /// <summary>At most this many messages await their PUBACK at once; the rest wait in the queue.</summary>
    public int InFlightWindow { get; init; } = 16;

    /// <summary>Messages waiting to be sent (disconnected, or the window is full); beyond it they are dropped and counted.</summary>
    public int OfflineQueueCapacity { get; init; } = 1000;

    public OfflinePolicy OfflinePolicy { get; init; } = OfflinePolicy.Queue;

    /// <summary>
    /// When the generator itself falls this far behind a message's intended send time (the machine cannot keep the
    /// asked rate), the message is not made: it is counted as <c>generator.skipped</c> (the generator's limit), so
    /// the shortfall is reported instead of growing queues. Null: every message is made, however late.
    /// </summary>
    public TimeSpan? MaxSendLag { get; init; }

    public string? Validate()
    {
        if (Interval <= TimeSpan.Zero) return $"telemetry interval must be positive (found {Interval})";
        if (StartJitter < TimeSpan.Zero) return $"telemetry start jitter must be 0 or more (found {StartJitter})";
        if (InFlightWindow is < 1 or > 65535) return $"telemetry in-flight window must be 1..65535 (found {InFlightWindow})";
        if (OfflineQueueCapacity < 0) return $"telemetry offline queue capacity must be 0 or more (found {OfflineQueueCapacity})";
        if (MaxSendLag is { } lag && lag <= TimeSpan.Zero) return $"telemetry max send lag must be positive (found {lag})";
        if (Payload.MaxLength < 0) return "telemetry payload reports a negative maximum length";
        return null;
    }
}
