using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Partitioning;

/// <summary>How the front of a partitioned hub serves one kind of service request.</summary>
public enum FrontRouteKind
{
    /// <summary>Device-scoped: forwarded to the partition that owns the device named in the path.</summary>
    Owner,

    /// <summary>Fleet-wide: sent to every partition, the answers merged (<see cref="JsonMerge"/>).</summary>
    FanOut,

    /// <summary>A JSON array of devices (bulk registry): each partition gets the items it owns (by <c>id</c>), the answers merged.</summary>
    SplitById,

    /// <summary>An emulator fault: to the owning partition when the body names a <c>deviceId</c>, else to every partition.</summary>
    Fault,
}

/// <summary>
/// One row of the front's routing table: an HTTP method (<c>*</c> for any) and a path template of segments, where
/// <c>{id}</c> is the device id, <c>{name}</c> any one segment and a trailing <c>**</c> any number of segments.
/// </summary>
public sealed record FrontRoute(string Method, string Template, FrontRouteKind Kind)
{
    private readonly string[] _segments = Template.Split('/', StringSplitOptions.RemoveEmptyEntries);

    public bool TryMatch(string method, IReadOnlyList<string> segments, out string? deviceId)
    {
        deviceId = null;
        if (Method != "*" && !string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            var pattern = _segments[i];
            if (pattern == "**")
            {
                return true;
            }

            if (i >= segments.Count)
            {
                return false;
            }

            if (pattern == "{id}")
            {
                deviceId = segments[i];
            }
            else if (!(pattern.StartsWith('{') && pattern.EndsWith('}')) && !string.Equals(pattern, segments[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return segments.Count == _segments.Length;
    }
}

/// <summary>Where one request goes: its kind and, for <see cref="FrontRouteKind.Owner"/>, the device id.</summary>
public readonly record struct FrontDecision(FrontRouteKind Kind, string? DeviceId);

/// <summary>
/// The front's routing table, first match wins. What matches no row is fleet-wide and fans out: a new list, query or
/// statistics endpoint of the partitions then works through the front without a row (its answers merged), and a new
/// device-scoped endpoint under <c>devices/{id}/</c>, <c>twins/{id}/</c> or <c>fleetsim/devices/{id}/</c> already
/// reaches the owner. Add a row (<see cref="With"/>) for anything else that must not fan out.
/// </summary>
public sealed class FrontRoutes
{
    private readonly IReadOnlyList<FrontRoute> _routes;

    public FrontRoutes(IEnumerable<FrontRoute> routes) => _routes = [.. routes];

    public static FrontRoutes Default { get; } = new(
    [
        new("POST", "devices/query", FrontRouteKind.FanOut),
        new("POST", "devices", FrontRouteKind.SplitById),
        new("*", "devices/{id}/**", FrontRouteKind.Owner),
        new("*", "twins/{id}/**", FrontRouteKind.Owner),
        new("*", "fleetsim/devices/{id}/**", FrontRouteKind.Owner),
        new("POST", "fleetsim/faults/{fault}", FrontRouteKind.Fault),
    ]);

    public IReadOnlyList<FrontRoute> Routes => _routes;

    /// <summary>This table with <paramref name="route"/> tried first.</summary>
    public FrontRoutes With(FrontRoute route) => new([route, .. _routes]);

    /// <param name="path">The request path, decoded, with or without its leading slash.</param>
    public FrontDecision Resolve(string method, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var route in _routes)
        {
            if (route.TryMatch(method, segments, out var deviceId))
            {
                return new FrontDecision(route.Kind, deviceId);
            }
        }

        return new FrontDecision(FrontRouteKind.FanOut, null);
    }

    /// <summary>The body of a <see cref="FrontRouteKind.SplitById"/> request as one JSON array per partition (empty arrays left out), or an error.</summary>
    public static IReadOnlyDictionary<int, JsonArray>? Split(JsonNode? body, int partitions, out string? error)
    {
        error = null;
        if (body is not JsonArray items)
        {
            error = "expected a JSON array of devices, each with an 'id'";
            return null;
        }

        var split = new SortedDictionary<int, JsonArray>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not JsonObject item || item["id"] is not JsonValue id || !id.TryGetValue<string>(out var deviceId) || deviceId.Length == 0)
            {
                error = $"item {i} has no 'id' (a device id string)";
                return null;
            }

            var partition = HubPartitions.PartitionOf(deviceId, partitions);
            if (!split.TryGetValue(partition, out var list))
            {
                split[partition] = list = [];
            }

            list.Add(item.DeepClone());
        }

        return split;
    }
}
