using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Partitioning;

/// <summary>
/// Merges the answers of every partition to one fleet-wide request into the answer one hub would give: numbers are
/// summed (ingest accounting, counters, device counts: each device lives in exactly one partition, so the sums are
/// exact), arrays concatenated (lists, query results), objects merged key by key with the same rules, booleans
/// and-ed (isSuccessful), and anything else (strings, null) taken from the first partition that has it.
/// </summary>
public static class JsonMerge
{
    public static JsonNode? Merge(IReadOnlyList<JsonNode?> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var present = parts.Where(static p => p is not null).ToList();
        if (present.Count == 0)
        {
            return null;
        }

        if (present.All(static p => p is JsonObject))
        {
            var merged = new JsonObject();
            foreach (var key in present.SelectMany(static p => ((JsonObject)p!).Select(static kv => kv.Key)).Distinct(StringComparer.Ordinal))
            {
                merged[key] = Merge([.. present.Select(p => ((JsonObject)p!)[key])]);
            }

            return merged;
        }

        if (present.All(static p => p is JsonArray))
        {
            var merged = new JsonArray();
            foreach (var item in present.SelectMany(static p => (JsonArray)p!))
            {
                merged.Add(item?.DeepClone());
            }

            return merged;
        }

        if (present.All(static p => p is JsonValue v && v.TryGetValue<bool>(out _)))
        {
            return JsonValue.Create(present.All(static p => p!.GetValue<bool>()));
        }

        if (present.All(static p => p is JsonValue v && v.TryGetValue<double>(out _)))
        {
            if (present.All(static p => p is JsonValue v && v.TryGetValue<long>(out _)))
            {
                return JsonValue.Create(present.Sum(static p => p!.GetValue<long>()));
            }

            return JsonValue.Create(present.Sum(static p => p!.GetValue<double>()));
        }

        return present[0]!.DeepClone();
    }
}
