using System.Text.Json.Nodes;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>Service twin endpoints: <c>GET</c>, <c>PATCH</c> (merge) and <c>PUT</c> (replace) <c>/twins/{id}</c>.</summary>
internal static class TwinEndpoints
{
    public static IResult Get(HubServices hub, string id)
    {
        var device = hub.Registry.Find(id);
        return device is null ? RestErrors.DeviceNotFound(id) : DeviceEndpoints.Json(DeviceJson.Twin(device, hub.C2dCount(device)));
    }

    public static async Task<IResult> UpdateAsync(HubServices hub, HttpRequest request, string id, bool replace)
    {
        var device = hub.Registry.Find(id);
        if (device is null)
        {
            return RestErrors.DeviceNotFound(id);
        }

        var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        if (body is null)
        {
            return RestErrors.BadRequest("The request body is not a Twin JSON object.");
        }

        var update = await hub.Twins.UpdateAsync(device, body, replace, DeviceEndpoints.IfMatch(request)).ConfigureAwait(false);
        if (update.PreconditionFailed)
        {
            return RestErrors.Error(IotHubErrors.PreconditionFailed, update.Error!);
        }

        return update.Ok ? Get(hub, id) : RestErrors.BadRequest(update.Error!);
    }
}
