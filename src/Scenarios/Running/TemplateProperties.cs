using FleetSim.DeviceActors.Telemetry;
using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// Telemetry application properties whose values are templates with generators (e.g. <c>{{choice north south}}</c>):
/// rendered for every message, each device with its own template state (counter, seeded random), touched only by
/// that device's actor. Constant properties never come here: they are encoded once per group.
/// </summary>
public sealed class TemplateProperties : ITelemetryProperties
{
    private readonly IReadOnlyList<KeyValuePair<string, PayloadTemplate>> _templates;
    private readonly Func<int, string> _deviceId;
    private readonly int _seed;
    private readonly DateTimeOffset _start;
    private readonly TimeProvider _time;
    private readonly TemplateDeviceState[]?[] _states;

    public TemplateProperties(IReadOnlyList<KeyValuePair<string, PayloadTemplate>> templates, int devices, Func<int, string> deviceId, int seed, TimeProvider time)
    {
        _templates = templates;
        _deviceId = deviceId;
        _seed = seed;
        _time = time;
        _start = time.GetUtcNow();
        _states = new TemplateDeviceState[]?[devices];
    }

    public IReadOnlyList<KeyValuePair<string, string?>> Render(int deviceIndex, long sequence)
    {
        var states = _states[deviceIndex] ??= CreateStates(deviceIndex);
        var now = _time.GetUtcNow();
        var properties = new KeyValuePair<string, string?>[_templates.Count];
        for (var i = 0; i < properties.Length; i++)
            properties[i] = new(_templates[i].Key, _templates[i].Value.RenderToString(states[i], now));
        return properties;
    }

    private TemplateDeviceState[] CreateStates(int deviceIndex)
    {
        var states = new TemplateDeviceState[_templates.Count];
        for (var i = 0; i < states.Length; i++)
            states[i] = _templates[i].Value.CreateState(_deviceId(deviceIndex), DeviceSeed.Derive(DeviceSeed.Derive(_seed, deviceIndex, DeviceSeed.Properties), i, DeviceSeed.Properties), _start);
        return states;
    }
}
