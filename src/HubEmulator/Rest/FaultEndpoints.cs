using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Faults;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// Emulator extension <c>POST /fleetsim/faults/{fault}</c> (service SAS), JSON bodies (every fault also takes
/// <c>"ids"</c>: an id pattern such as <c>"sensor-*"</c>, or a list of patterns, limiting it to those devices):
/// <c>drop</c> <c>{"fraction":0.5}</c> or <c>{"deviceId":"d1"}</c> (no body: all);
/// <c>hub-restart</c> <c>{"seconds":10}</c>; <c>blackhole</c> <c>{"fraction":0.1,"seconds":30}</c>;
/// <c>expire-tokens</c> <c>{"fraction":0.2}</c>; <c>latency</c> <c>{"milliseconds":300,"jitterMilliseconds":100,"seconds":60}</c>;
/// <c>refuse-connects</c> <c>{"seconds":30,"deviceId":null}</c>; <c>twin-failures</c> <c>{"status":429,"ratio":0.2,"seconds":60}</c>;
/// <c>ack-delay</c> <c>{"milliseconds":500,"seconds":60}</c>; <c>clear</c>.
/// Every fault but <c>clear</c> answers 200 with the fault event:
/// <c>{"kind","start","end","affected","deviceIds":[…]}</c> (<c>drop</c> also <c>"dropped"</c>).
/// </summary>
internal static class FaultEndpoints
{
    public static async Task<IResult> ApplyAsync(HubServices hub, HttpRequest request, string fault)
    {
        var body = request.ContentLength is 0 or null && !request.Headers.ContainsKey("Transfer-Encoding")
            ? []
            : await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        if (body is null)
        {
            return RestErrors.BadRequest("The fault request body must be a JSON object.");
        }

        try
        {
            var faults = hub.Faults;
            var target = Target(body);
            switch (fault)
            {
                case "drop":
                    if (Text(body, "deviceId") is { } deviceId)
                    {
                        var start = DateTimeOffset.UtcNow;
                        var closed = await faults.DropDeviceAsync(deviceId).ConfigureAwait(false);
                        return Event(new FaultOutcome("drop", start, null, closed ? [deviceId] : []), dropped: true);
                    }

                    return Event(await faults.DropAsync(Number(body, "fraction") ?? 1.0, target).ConfigureAwait(false), dropped: true);
                case "hub-restart":
                    return Event(await faults.RestartAsync(Seconds(body)).ConfigureAwait(false));
                case "blackhole":
                    return Event(await faults.BlackholeAsync(Number(body, "fraction") ?? 1.0, Seconds(body), target).ConfigureAwait(false));
                case "expire-tokens":
                    return Event(await faults.ExpireTokensAsync(Number(body, "fraction") ?? 1.0, target).ConfigureAwait(false));
                case "latency":
                    return Event(faults.AddLatency(
                        TimeSpan.FromMilliseconds(Required(body, "milliseconds")), TimeSpan.FromMilliseconds(Number(body, "jitterMilliseconds") ?? 0),
                        Seconds(body), target));
                case "refuse-connects":
                    var only = Text(body, "deviceId");
                    return Event(faults.RefuseConnects(Seconds(body), only is null ? target : FaultTarget.Of([only])));
                case "twin-failures":
                    return Event(faults.FailTwinOperations((int)Required(body, "status"), Number(body, "ratio") ?? 1.0, Seconds(body), target));
                case "ack-delay":
                    return Event(faults.DelayAcknowledgements(TimeSpan.FromMilliseconds(Required(body, "milliseconds")), Seconds(body), target));
                case "clear":
                    faults.Clear();
                    return Results.NoContent();
                default:
                    return RestErrors.BadRequest(
                        $"Unknown fault '{fault}': expected drop, hub-restart, blackhole, expire-tokens, latency, refuse-connects, twin-failures, ack-delay or clear.");
            }
        }
        catch (ArgumentException e)
        {
            return RestErrors.BadRequest(e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static IResult Event(FaultOutcome outcome, bool dropped = false)
    {
        var ids = new JsonArray();
        foreach (var id in outcome.AffectedDeviceIds)
        {
            ids.Add(id);
        }

        var json = new JsonObject
        {
            ["kind"] = outcome.Kind,
            ["start"] = outcome.Start,
            ["end"] = outcome.End,
            ["affected"] = outcome.Affected,
            ["deviceIds"] = ids,
        };
        if (dropped)
        {
            json["dropped"] = outcome.Affected;
        }

        return DeviceEndpoints.Json(json);
    }

    /// <summary><c>"ids"</c>: one pattern or a list of them (exact ids, or globs with <c>*</c>).</summary>
    private static FaultTarget? Target(JsonObject body) => body["ids"] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var one) && one.Length > 0 => FaultTarget.Of([one]),
        JsonArray list when list.All(n => n is JsonValue e && e.TryGetValue<string>(out var s) && s.Length > 0) =>
            FaultTarget.Of(list.Select(n => n!.GetValue<string>())),
        _ => throw new ArgumentException("'ids' must be an id pattern (a string, '*' matches any run of characters) or a list of them."),
    };

    private static TimeSpan Seconds(JsonObject body) => TimeSpan.FromSeconds(Required(body, "seconds"));

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static double? Number(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static double Required(JsonObject body, string name) =>
        Number(body, name) ?? throw new ArgumentException($"'{name}' (a number) is required.");
}
