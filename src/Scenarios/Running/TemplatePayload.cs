using System.Buffers;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Twin;
using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// Adapts a compiled payload template (one per group) to the device side's payload interfaces. Each device has
/// its own template state (counter, seeded random), created on its first message and touched only by that
/// device's actor. Rendering goes through a per-thread scratch buffer, so the hot path allocates nothing after warm-up.
/// </summary>
public sealed class TemplatePayload : ITelemetryPayload, IReportedPatchFactory, DeviceActors.Methods.IMethodResponsePayload
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratch;

    private readonly PayloadTemplate _template;
    private readonly Func<int, string> _deviceId;
    private readonly int _seed;
    private readonly int _stream;
    private readonly DateTimeOffset _start;
    private readonly TimeProvider _time;
    private readonly TemplateDeviceState?[] _states;

    public TemplatePayload(PayloadTemplate template, int devices, Func<int, string> deviceId, int seed, int stream, TimeProvider time)
    {
        _template = template;
        _deviceId = deviceId;
        _seed = seed;
        _stream = stream;
        _time = time;
        _start = time.GetUtcNow();
        _states = new TemplateDeviceState?[devices];
        MaxLength = EstimateMaxLength();
    }

    /// <summary>
    /// An upper bound for one render, from sample renders with generous headroom (numbers and counters grow, strings
    /// do not); a render that still exceeds it fails loudly rather than being cut.
    /// </summary>
    public int MaxLength { get; }

    public int Write(int deviceIndex, long sequence, Span<byte> destination)
    {
        var scratch = Render(deviceIndex);
        if (scratch.WrittenCount > destination.Length)
            throw new InvalidOperationException($"payload template rendered {scratch.WrittenCount} bytes, above its estimated bound of {destination.Length}");
        scratch.WrittenSpan.CopyTo(destination);
        return scratch.WrittenCount;
    }

    /// <summary>Reported-property patches and method answers: the rendered JSON.</summary>
    public byte[] Create(int deviceIndex, long count) => Render(deviceIndex).WrittenSpan.ToArray();

    private ArrayBufferWriter<byte> Render(int deviceIndex)
    {
        var state = _states[deviceIndex] ??= _template.CreateState(_deviceId(deviceIndex), DeviceSeed.Derive(_seed, deviceIndex, _stream), _start);
        var scratch = _scratch ??= new ArrayBufferWriter<byte>(1024);
        scratch.ResetWrittenCount();
        _template.Render(scratch, state, _time.GetUtcNow());
        return scratch;
    }

    private int EstimateMaxLength()
    {
        var longest = 0;
        var probe = _template.CreateState(_deviceId(Math.Max(0, _states.Length - 1)), _seed, _start);
        var buffer = new ArrayBufferWriter<byte>(1024);
        for (var i = 0; i < 32; i++)
        {
            buffer.ResetWrittenCount();
            _template.Render(buffer, probe, _start.AddSeconds(i * 7.3));
            longest = Math.Max(longest, buffer.WrittenCount);
        }

        return Math.Min(FleetSim.Protocol.MessageLimits.MaxMessageBytes + 1, longest * 2 + 256);
    }
}
