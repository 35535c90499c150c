using System.Text;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Registry;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>
/// <c>POST /devices/query</c> with <c>{"query": "SELECT … FROM devices …"}</c> (azure-iothub <c>Registry.createQuery</c>):
/// a JSON array of twins (or projected rows, or one COUNT row), at most <c>x-ms-max-item-count</c> (default and most:
/// 100) a page, ordered by device id; <c>x-ms-continuation</c> in the answer carries on from the last device of the page
/// (the request sends it back). A partitioned hub can merge its partitions' pages by device id with the same token.
/// </summary>
internal static class QueryEndpoints
{
    public const int MaxPageSize = 100;

    public static async Task<IResult> PostAsync(HubServices hub, HttpRequest request)
    {
        var body = await JsonBody.ObjectOrNullAsync(request).ConfigureAwait(false);
        if (body?["query"] is not JsonValue q || !q.TryGetValue<string>(out var sql) || sql.Length == 0)
        {
            return RestErrors.BadRequest("The request body must be {\"query\": \"SELECT ... FROM devices ...\"}.");
        }

        DeviceQuery query;
        try
        {
            query = DeviceQuery.Parse(sql);
        }
        catch (FormatException e)
        {
            return RestErrors.BadRequest($"Query '{sql}' is not supported: {e.Message}.");
        }

        var pageSize = MaxPageSize;
        if (request.Headers["x-ms-max-item-count"].ToString() is { Length: > 0 } sizeText
            && (!int.TryParse(sizeText, out pageSize) || pageSize < 1))
        {
            return RestErrors.BadRequest($"x-ms-max-item-count '{sizeText}' is not a positive number.");
        }

        pageSize = Math.Min(pageSize, MaxPageSize);
        var after = Decode(request.Headers["x-ms-continuation"].ToString());
        var matching = new List<RegisteredDevice>();
        foreach (var device in hub.Registry.All)
        {
            if ((after is null || string.CompareOrdinal(device.DeviceId, after) > 0) && query.Matches(path => Resolve(hub.C2d, device, path)))
            {
                matching.Add(device);
            }
        }

        var response = request.HttpContext.Response;
        if (query.IsCount)
        {
            response.Headers["x-ms-item-type"] = "JSON";
            return DeviceEndpoints.Json(new JsonArray(new JsonObject { [query.CountAlias] = matching.Count }));
        }

        matching.Sort((a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        var page = new JsonArray();
        foreach (var device in matching.Take(pageSize))
        {
            page.Add(query.Projection is null ? DeviceJson.Twin(device, hub.C2dCount(device)) : Project(hub, device, query.Projection));
        }

        if (matching.Count > pageSize)
        {
            response.Headers["x-ms-continuation"] = Encode(matching[pageSize - 1].DeviceId);
        }

        response.Headers["x-ms-item-type"] = query.Projection is null ? "Twin" : "JSON";
        return DeviceEndpoints.Json(page);
    }

    private static JsonObject Project(HubServices hub, RegisteredDevice device, IReadOnlyList<string[]> paths)
    {
        var row = new JsonObject();
        foreach (var path in paths)
        {
            if (Resolve(hub.C2d, device, path) is { } value)
            {
                row[path[^1]] = value.DeepClone();
            }
        }

        return row;
    }

    /// <summary>A path of the device's twin, read without building the twin where it can; null when undefined.</summary>
    internal static JsonNode? Resolve(C2d.CloudToDeviceMessages c2d, RegisteredDevice device, string[] path)
    {
        var identity = device.Identity;
        if (path.Length == 1)
        {
            switch (path[0])
            {
                case "deviceId":
                    return JsonValue.Create(device.DeviceId);
                case "status":
                    return JsonValue.Create(identity.Status);
                case "connectionState":
                    return JsonValue.Create(device.IsConnected ? "Connected" : "Disconnected");
                case "authenticationType":
                    return JsonValue.Create(DeviceIdentity.WireName(identity.AuthenticationType));
            }
        }

        var (tags, desired, reported) = device.Twin.Sections();
        return path switch
        {
            ["tags", ..] => Walk(tags, path, 1),
            ["properties", "desired", ..] => Walk(desired, path, 2),
            ["properties", "reported", ..] => Walk(reported, path, 2),
            _ => Walk(DeviceJson.Twin(device, c2d.Count(device)), path, 0),
        };
    }

    private static JsonNode? Walk(JsonNode? node, string[] path, int from)
    {
        for (var i = from; i < path.Length && node is not null; i++)
        {
            node = node is JsonObject obj && obj.TryGetPropertyValue(path[i], out var child) ? child : null;
        }

        return node;
    }

    private static string Encode(string deviceId) => Convert.ToBase64String(Encoding.UTF8.GetBytes(deviceId));

    private static string? Decode(string token)
    {
        if (token.Length == 0)
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
