using System.Collections.Concurrent;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Ingest;

/// <summary>One telemetry message as the hub received it: body and decoded properties.</summary>
public sealed record ReceivedTelemetry(
    string DeviceId,
    DateTimeOffset ReceivedAt,
    byte[] Body,
    IReadOnlyDictionary<string, string?> SystemProperties,
    IReadOnlyDictionary<string, string?> ApplicationProperties);

/// <summary>
/// Keeps the last few telemetry messages of each device so tests and conformance scripts can check what
/// arrived (body, system and application properties). Off unless <see cref="HubEmulatorOptions.RecordTelemetryPerDevice"/>
/// is above 0: it copies every message, which a load test should not pay for.
/// </summary>
public sealed class TelemetryRecorder
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ReceivedTelemetry>> _messages = new(StringComparer.Ordinal);
    private readonly int _perDevice;
    private readonly TimeProvider _time;

    internal TelemetryRecorder(int perDevice, TimeProvider time)
    {
        _perDevice = perDevice;
        _time = time;
    }

    public bool Enabled => _perDevice > 0;

    /// <summary>The device's most recent messages, oldest first (empty when recording is off).</summary>
    public IReadOnlyList<ReceivedTelemetry> Recent(string deviceId) =>
        _messages.TryGetValue(deviceId, out var queue) ? [.. queue] : [];

    internal void Record(string deviceId, ReadOnlySpan<char> bag, byte[] body, bool retain)
    {
        var system = new Dictionary<string, string?>(StringComparer.Ordinal);
        var application = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in PropertyBag.Decode(bag.ToString()))
        {
            (SystemProperties.IsSystem(key) || key == SystemProperties.CreationTimeUtc ? system : application)[key] = value;
        }

        if (retain)
        {
            application[SystemProperties.MqttRetain] = "true"; // the hub does not retain; it marks the message instead
        }

        var queue = _messages.GetOrAdd(deviceId, static _ => new ConcurrentQueue<ReceivedTelemetry>());
        queue.Enqueue(new ReceivedTelemetry(deviceId, _time.GetUtcNow(), body, system, application));
        while (queue.Count > _perDevice && queue.TryDequeue(out _))
        {
        }
    }
}
