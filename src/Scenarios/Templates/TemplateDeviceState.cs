using System.Text;

namespace FleetSim.Scenarios.Templates;

/// <summary>
/// Per-device, per-template state: the device's own seeded <see cref="System.Random"/>, the message counter,
/// sequence slots, the device id bytes and the start time that sine and sawtooth count from. Not
/// thread-safe: one device (actor) owns it.
/// </summary>
public sealed class TemplateDeviceState
{
    internal TemplateDeviceState(string deviceId, int seed, DateTimeOffset start, int slots)
    {
        DeviceId = deviceId;
        Random = new Random(seed);
        Start = start;
        Slots = slots == 0 ? [] : new long[slots];
        DeviceIdRaw = Encoding.UTF8.GetBytes(deviceId);
        DeviceIdEscaped = JsonText.Escape(deviceId);
    }

    public string DeviceId { get; }

    public Random Random { get; }

    public DateTimeOffset Start { get; }

    /// <summary>Messages rendered so far with this state.</summary>
    public long Counter { get; internal set; }

    internal long[] Slots { get; }

    internal byte[] DeviceIdRaw { get; }

    internal byte[] DeviceIdEscaped { get; }
}
