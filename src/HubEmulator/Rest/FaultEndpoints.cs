using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Emulator extension <c>POST /fleetsim/faults/{fault}</c> (service SAS), JSON bodies:
/// <c>drop</c> <c>{"fraction":0.5}</c> or <c>{"deviceId":"d1"}</c> (no body: all) → <c>{"dropped":n}</c>;
/// <c>refuse-connects</c> <c>{"seconds":30,"deviceId":null}</c>; <c>twin-failures</c> <c>{"status":429,"ratio":0.2,"seconds":60}</c>;
/// <c>ack-delay</c> <c>{"milliseconds":500,"seconds":60}</c>; <c>clear</c>.
/// </summary>
internal static class FaultEndpoints
{
    public static async Task<IResult> ApplyAsync(HubServices hub, HttpRequest request, string fault)
    {
        var body = request.ContentLength is 0 or null && !request.Headers.ContainsKey("Transfer-Encoding")
            ? []
            : await TwinEndpoints.ReadObjectAsync(request).ConfigureAwait(false);
        if (body is null)
        {
            return RestErrors.BadRequest("The fault request body must be a JSON object.");
        }

        try
        {
            switch (fault)
            {
                case "drop":
                    var deviceId = Text(body, "deviceId");
                    var dropped = deviceId is not null
                        ? (await hub.Faults.DropDeviceAsync(deviceId).ConfigureAwait(false) ? 1 : 0)
                        : await hub.Faults.DropFractionAsync(Number(body, "fraction") ?? 1.0).ConfigureAwait(false);
                    return DeviceEndpoints.Json(new JsonObject { ["dropped"] = dropped });
                case "refuse-connects":
                    hub.Faults.RefuseConnects(TimeSpan.FromSeconds(Required(body, "seconds")), Text(body, "deviceId"));
                    return Results.NoContent();
                case "twin-failures":
                    hub.Faults.FailTwinOperations((int)Required(body, "status"), Number(body, "ratio") ?? 1.0, TimeSpan.FromSeconds(Required(body, "seconds")));
                    return Results.NoContent();
                case "ack-delay":
                    hub.Faults.DelayAcknowledgements(TimeSpan.FromMilliseconds(Required(body, "milliseconds")), TimeSpan.FromSeconds(Required(body, "seconds")));
                    return Results.NoContent();
                case "clear":
                    hub.Faults.Clear();
                    return Results.NoContent();
                default:
                    return RestErrors.BadRequest($"Unknown fault '{fault}': expected drop, refuse-connects, twin-failures, ack-delay or clear.");
            }
        }
        catch (ArgumentException e)
        {
            return RestErrors.BadRequest(e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static double? Number(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static double Required(JsonObject body, string name) =>
        Number(body, name) ?? throw new ArgumentException($"'{name}' (a number) is required.");
}
