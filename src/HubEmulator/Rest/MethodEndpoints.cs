using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Methods;
using FleetSim.Protocol;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// <c>POST /twins/{id}/methods</c> with <c>{"methodName","payload","responseTimeoutInSeconds","connectTimeoutInSeconds"}</c>:
/// 200 <c>{"status","payload"}</c>, 404103 DeviceNotOnline, 504101 GatewayTimeout (PROTOCOL.md section 8).
/// </summary>
internal static class MethodEndpoints
{
    public static async Task<IResult> InvokeAsync(HubServices hub, HttpRequest request, string id)
    {
        var device = hub.Registry.Find(id);
        if (device is null)
        {
            return RestErrors.DeviceNotFound(id);
        }

        var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        if (body is null)
        {
            return RestErrors.BadRequest("The request body is not a JSON object with methodName.");
        }

        var name = body["methodName"] is JsonValue v && v.TryGetValue<string>(out var n) ? n : null;
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name.Contains('?'))
        {
            return RestErrors.BadRequest("methodName is required and must not contain '/' or '?'.");
        }

        if (!TrySeconds(body, "responseTimeoutInSeconds", 30, 5, 300, out var responseTimeout, out var error)
            || !TrySeconds(body, "connectTimeoutInSeconds", 0, 0, 300, out var connectTimeout, out error))
        {
            return RestErrors.BadRequest(error);
        }

        var payload = body["payload"];
        if (payload is not null && payload.ToJsonString().Length > MessageLimits.MaxMethodPayloadBytes)
        {
            return RestErrors.Error(IotHubErrors.MessageTooLarge, $"The method payload exceeds {MessageLimits.MaxMethodPayloadBytes} bytes.");
        }

        var result = await hub.Methods.InvokeAsync(device, name, payload, responseTimeout, connectTimeout, request.HttpContext.RequestAborted)
            .ConfigureAwait(false);
        return result.Outcome switch
        {
            MethodOutcome.DeviceNotOnline => RestErrors.ErrorWithDetails(IotHubErrors.DeviceNotOnline,
                "The operation failed because the requested device isn't online or hasn't registered the direct method callback. To learn more, see https://aka.ms/iothub404103",
                new Dictionary<string, string> { ["timeout"] = connectTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture) },
                hub.Time.GetUtcNow()),
            MethodOutcome.Timeout => RestErrors.Error(IotHubErrors.GatewayTimeout, $"Timed out waiting for the response from device {id}."),
            _ => DeviceEndpoints.Json(new JsonObject { ["status"] = result.Status, ["payload"] = result.Payload }),
        };
    }

    private static bool TrySeconds(JsonObject body, string name, int fallback, int min, int max, out TimeSpan value, out string error)
    {
        error = "";
        var seconds = fallback;
        if (body[name] is JsonValue raw && !raw.TryGetValue(out seconds))
        {
            value = default;
            error = $"{name} must be an integer number of seconds.";
            return false;
        }

        if (seconds < min || seconds > max)
        {
            value = default;
            error = $"{name} must be between {min} and {max} (was {seconds}).";
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
