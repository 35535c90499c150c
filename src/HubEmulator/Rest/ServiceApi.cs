using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// The hub's HTTPS service API (PROTOCOL.md section 8) and the emulator's own extensions under <c>/fleetsim/</c>.
/// Every route here needs a service SAS token; <c>?api-version=</c> is accepted and ignored.
/// </summary>
internal static class ServiceApi
{
    public static void Map(IEndpointRouteBuilder app, HubServices hub)
    {
        var api = app.MapGroup("").AddEndpointFilter(async (context, next) =>
            hub.Authorization.Check(context.HttpContext.Request) ?? await next(context).ConfigureAwait(false));

        // Identity registry operations share the tier's registry throttle (a bulk call counts once).
        var registry = api.MapGroup("").AddEndpointFilter(async (context, next) =>
            hub.Throttle.TryRegistryOperation()
                ? await next(context).ConfigureAwait(false)
                : RestErrors.Throttled("Identity registry operations are over the hub's throttle.", hub.Throttle.RegistryRetryAfterSeconds));
        registry.MapPut("/devices/{id}", (HttpRequest request, string id) => DeviceEndpoints.PutAsync(hub, request, id));
        registry.MapGet("/devices/{id}", (string id) => DeviceEndpoints.Get(hub, id));
        registry.MapDelete("/devices/{id}", (HttpRequest request, string id) => DeviceEndpoints.DeleteAsync(hub, request, id));
        registry.MapPost("/devices", (HttpRequest request) => BulkEndpoints.PostAsync(hub, request));
        api.MapPost("/devices/query", (HttpRequest request) => QueryEndpoints.PostAsync(hub, request));
        api.MapPut("/jobs/v2/{id}", (HttpRequest request, string id) => JobEndpoints.PutAsync(hub, request, id));
        api.MapGet("/jobs/v2/{id}", (string id) => JobEndpoints.Get(hub, id));
        api.MapGet("/statistics/devices", () => StatisticsEndpoints.Devices(hub));
        api.MapGet("/statistics/service", () => StatisticsEndpoints.Service(hub));
        api.MapGet("/twins/{id}", (string id) => TwinEndpoints.Get(hub, id));
        api.MapMethods("/twins/{id}", ["PATCH"], (HttpRequest request, string id) => TwinEndpoints.UpdateAsync(hub, request, id, replace: false));
        api.MapPut("/twins/{id}", (HttpRequest request, string id) => TwinEndpoints.UpdateAsync(hub, request, id, replace: true));
        api.MapPost("/twins/{id}/methods", (HttpRequest request, string id) => MethodEndpoints.InvokeAsync(hub, request, id));
        api.MapPost("/devices/{id}/messages/deviceBound", (HttpRequest request, string id) => C2dEndpoints.SendAsync(hub, request, id));
        api.MapPost("/fleetsim/faults/{fault}", (HttpRequest request, string fault) => FaultEndpoints.ApplyAsync(hub, request, fault));
        api.MapGet("/fleetsim/stats", (string? run) => StatsEndpoint.Get(hub, run));
        api.MapGet("/fleetsim/devices/{id}/messages", (string id) => StatsEndpoint.RecentTelemetry(hub, id));
        api.MapGet("/fleetsim/devices/{id}/telemetry/last", (string id) => TelemetryEndpoints.Last(hub, id));
    }
}
