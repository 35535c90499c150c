using System.Text;

namespace FleetSim.DeviceActors.Methods;

/// <summary>Builds a method response body per device and call (e.g. a payload template with generators).</summary>
public interface IMethodResponsePayload
{
    /// <summary>The JSON body of answer number <paramref name="count"/> (1, 2, …) of device <paramref name="deviceIndex"/>.</summary>
    byte[] Create(int deviceIndex, long count);
}

/// <summary>
/// How a device answers one direct method: status, JSON payload (null: empty body) and a delay. A
/// <see cref="PayloadFactory"/>, when set, renders the body for each answer instead of <see cref="PayloadJson"/>.
/// </summary>
public sealed record MethodBehavior(int Status, string? PayloadJson, TimeSpan Delay)
{
    /// <summary>The response body, encoded once.</summary>
    internal byte[] Body { get; } = PayloadJson is null ? [] : Encoding.UTF8.GetBytes(PayloadJson);

    /// <summary>Renders each answer's body (per device, per call); null: <see cref="PayloadJson"/> every time.</summary>
    public IMethodResponsePayload? PayloadFactory { get; init; }
}

/// <summary>Direct-method handlers by method name, and the answer to any other method.</summary>
public sealed record MethodOptions
{
    public IReadOnlyDictionary<string, MethodBehavior> Handlers { get; init; } = new Dictionary<string, MethodBehavior>();

    /// <summary>The answer to a method with no handler (the SDKs leave it to the app; 404 says "no such method").</summary>
    public MethodBehavior Unknown { get; init; } = new(404, """{"message":"unknown method"}""", TimeSpan.Zero);

    internal MethodBehavior For(string name) => Handlers.TryGetValue(name, out var b) ? b : Unknown;

    public string? Validate()
    {
        foreach (var (name, behavior) in Handlers)
        {
            if (string.IsNullOrEmpty(name) || name.Contains('/'))
                return $"method name '{name}' must be non-empty and without '/' (the method topic carries it as one segment)";
            if (behavior.Delay < TimeSpan.Zero)
                return $"method '{name}': delay must be 0 or more (found {behavior.Delay})";
        }

        return Unknown.Delay < TimeSpan.Zero ? "the unknown-method answer's delay must be 0 or more" : null;
    }
}

/// <summary>C2D behaviour: the device subscribes, measures delivery latency from fleetsim-sent and acknowledges.</summary>
public sealed record C2dOptions
{
    /// <summary>Wait this long before the PUBACK (simulates a slow handler); zero acknowledges at once.</summary>
    public TimeSpan AckDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// False (the scenario's <c>c2d: {ack: false}</c>): never PUBACK a C2D message, so the hub keeps it with the
    /// session and delivers it again after the next reconnect, as it does for a device that crashed mid-handling.
    /// </summary>
    public bool Acknowledge { get; init; } = true;

    public string? Validate() => AckDelay < TimeSpan.Zero ? $"C2D ack delay must be 0 or more (found {AckDelay})" : null;
}
