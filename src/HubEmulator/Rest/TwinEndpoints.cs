using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>Service twin endpoints: <c>GET /twins/{id}</c>.</summary>
internal static class TwinEndpoints
{
    public static IResult Get(HubServices hub, string id)
    {
        var device = hub.Registry.Find(id);
        return device is null ? RestErrors.DeviceNotFound(id) : DeviceEndpoints.Json(DeviceJson.Twin(device, hub.C2dCount(device)));
    }
}
