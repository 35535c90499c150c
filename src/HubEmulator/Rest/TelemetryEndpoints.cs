using System.Text.Json.Nodes;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Emulator extension <c>GET /fleetsim/devices/{id}/telemetry/last</c> (service SAS): the topic of the last
/// telemetry message the device sent and its property bag decoded (system properties as <c>$.mid</c>, <c>$.ct</c>,
/// …; application properties by name), so tools can check what arrived without a message route. 204 when the
/// device has sent nothing since the hub started; 404 DeviceNotFound for an unknown device.
/// </summary>
internal static class TelemetryEndpoints
{
    public static IResult Last(HubServices hub, string id)
    {
        var device = hub.Registry.Find(id);
        if (device is null)
        {
            return RestErrors.DeviceNotFound(id);
        }

        var topic = device.LastTelemetryTopic;
        if (topic is null)
        {
            return Results.NoContent();
        }

        var prefix = device.Topics.TelemetryPrefix;
        var properties = new JsonObject();
        foreach (var (key, value) in PropertyBag.Decode(topic.Length > prefix.Length ? topic[prefix.Length..] : ""))
        {
            properties[key] = value;
        }

        return DeviceEndpoints.Json(new JsonObject { ["topic"] = topic, ["properties"] = properties });
    }
}
