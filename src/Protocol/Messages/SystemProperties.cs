namespace FleetSim.Protocol;

/// <summary>System property names of the telemetry and C2D property bags (PROTOCOL.md section 3).</summary>
public static class SystemProperties
{
    public const string MessageId = "$.mid";
    public const string CorrelationId = "$.cid";
    public const string UserId = "$.uid";
    public const string To = "$.to";
    public const string ContentType = "$.ct";
    public const string ContentEncoding = "$.ce";
    public const string ExpiryTime = "$.exp";
    public const string OutputName = "$.on";
    public const string InterfaceId = "$.ifid";
    public const string Subject = "$.sub";
    public const string CreationTimeUtc = "iothub-creation-time-utc";
    public const string Ack = "iothub-ack";
    public const string MessageType = "iothub-MessageType";
    public const string MqttRetain = "mqtt-retain";

    /// <summary>True for keys the hub treats as system properties rather than application properties.</summary>
    public static bool IsSystem(string key) => key.StartsWith("$.", StringComparison.Ordinal) || key == Ack;
}

/// <summary>Application properties FleetSim adds to its own messages (a real device may send any property).</summary>
public static class FleetSimProperties
{
    /// <summary>Per-device telemetry sequence number (1, 2, 3, …); the emulator counts gaps and repeats from it.</summary>
    public const string Sequence = "fleetsim-seq";

    /// <summary>Unix milliseconds when the sender created the message; used to measure delivery latency.</summary>
    public const string SentAt = "fleetsim-sent";

    /// <summary>
    /// The id of the run that sent the message: the emulator keeps a run's sequence accounting apart from other runs
    /// against the same standing hub (device ids re-used by a later run start again at 1 without being duplicates).
    /// </summary>
    public const string Run = "fleetsim-run";
}

/// <summary>IoT Hub's message size rule: body + system property values + application property names and values.</summary>
public static class MessageLimits
{
    public const int MaxMessageBytes = 256 * 1024;
    public const int MaxMethodPayloadBytes = 128 * 1024;

    public static int MessageSize(int bodyBytes, IEnumerable<KeyValuePair<string, string?>> properties)
    {
        var size = bodyBytes;
        foreach (var (key, value) in properties)
        {
            if (!SystemProperties.IsSystem(key))
                size += System.Text.Encoding.UTF8.GetByteCount(key);
            if (value is not null)
                size += System.Text.Encoding.UTF8.GetByteCount(value);
        }

        return size;
    }
}
