using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Twins;

/// <summary>
/// Device twin requests over MQTT (PROTOCOL.md section 3): <c>$iothub/twin/GET/?$rid=</c> answers 200 with
/// desired and reported; <c>$iothub/twin/PATCH/properties/reported/?$rid=</c> merges and answers 204 with the new
/// <c>$version</c>, or 400 with <c>{"errorCode":…,"message":…}</c>; over the twin quota, 429 with errorCode 429001. Responses go only to a device subscribed to
/// <c>$iothub/twin/res/#</c>.
/// </summary>
internal sealed class TwinRequestHandler : IDeviceRequestHandler
{
    private readonly HubMqttServer _mqtt;
    private readonly FaultInjector _faults;
    private readonly HubThrottle _throttle;
    private readonly TimeProvider _time;
    private long _gets;
    private long _reportedPatches;

    public TwinRequestHandler(HubMqttServer mqtt, FaultInjector faults, HubThrottle throttle, TimeProvider time)
    {
        _throttle = throttle;
        _mqtt = mqtt;
        _faults = faults;
        _time = time;
    }

    public string TopicPrefix => "$iothub/twin/";

    public long Gets => Interlocked.Read(ref _gets);

    public long ReportedPatches => Interlocked.Read(ref _reportedPatches);

    public bool TryHandle(RegisteredDevice device, MqttApplicationMessage message)
    {
        if (!TwinTopics.TryParseRequest(message.Topic, out var kind, out var rid))
        {
            return false;
        }

        if (_faults.ShouldFailTwinOperation(device.DeviceId, out var status))
        {
            Respond(device, TwinTopics.Response(status, rid), ErrorBody(status, "Fault injected by the emulator."));
            return true;
        }

        if (!_throttle.TryTwinOperation())
        {
            Respond(device, TwinTopics.Response(429, rid), ErrorBody(429, "Throttled: the hub's twin operations per second quota is used up."));
            return true;
        }

        if (kind == TwinRequestKind.Get)
        {
            Interlocked.Increment(ref _gets);
            Respond(device, TwinTopics.Response(200, rid), JsonSerializer.SerializeToUtf8Bytes(device.Twin.DeviceView()));
            return true;
        }

        JsonObject? patch;
        try
        {
            patch = JsonNode.Parse(message.Payload.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            patch = null;
        }

        if (patch is null)
        {
            Respond(device, TwinTopics.Response(400, rid), ErrorBody(400, "The reported patch is not a JSON object."));
            return true;
        }

        var update = device.Twin.PatchReported(patch, _time.GetUtcNow());
        if (!update.Ok)
        {
            Respond(device, TwinTopics.Response(400, rid), ErrorBody(400, update.Error!));
            return true;
        }

        Interlocked.Increment(ref _reportedPatches);
        Respond(device, TwinTopics.Response(204, rid, update.Version), ReadOnlyMemory<byte>.Empty);
        return true;
    }

    private void Respond(RegisteredDevice device, string topic, ReadOnlyMemory<byte> body) =>
        _ = DeviceDelivery.SendIfSubscribedAsync(_mqtt, device, DeviceSubscriptions.TwinResponses, topic, body, MqttQualityOfServiceLevel.AtMostOnce);

    private static byte[] ErrorBody(int status, string text)
    {
        var error = status switch
        {
            429 => IotHubErrors.ThrottlingException,
            503 => IotHubErrors.ServiceUnavailable,
            >= 500 => IotHubErrors.ServerError,
            _ => IotHubErrors.ArgumentInvalid,
        };
        return Encoding.UTF8.GetBytes(IotHubErrors.TwinBody(error, text));
    }
}
