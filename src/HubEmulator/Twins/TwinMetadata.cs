using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Twins;

/// <summary>
/// The <c>$metadata</c> tree of a twin section: every object level and every leaf has <c>$lastUpdated</c>;
/// in desired also <c>$lastUpdatedVersion</c> (the desired version that last wrote it), as IoT Hub shows it.
/// </summary>
internal static class TwinMetadata
{
    private const string LastUpdated = "$lastUpdated";
    private const string LastUpdatedVersion = "$lastUpdatedVersion";

    /// <summary>Metadata for a whole new document (a PUT): every node written now.</summary>
    public static JsonObject ForDocument(JsonObject document, DateTimeOffset now, long? version)
    {
        var meta = Stamp(new JsonObject(), DeviceTwin.Timestamp(now), version);
        foreach (var (key, value) in document)
        {
            meta[key] = value is JsonObject child ? ForDocument(child, now, version) : Stamp(new JsonObject(), DeviceTwin.Timestamp(now), version);
        }

        return meta;
    }

    /// <summary>Updates <paramref name="meta"/> for a merge patch: null deletes, objects recurse, leaves are restamped.</summary>
    public static void ApplyPatch(JsonObject meta, JsonObject patch, DateTimeOffset now, long? version)
    {
        var stamp = DeviceTwin.Timestamp(now);
        Stamp(meta, stamp, version);
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null)
            {
                meta.Remove(key);
            }
            else if (value is JsonObject child)
            {
                if (meta[key] is not JsonObject childMeta)
                {
                    childMeta = new JsonObject();
                    meta[key] = childMeta;
                }

                ApplyPatch(childMeta, child, now, version);
            }
            else
            {
                meta[key] = Stamp(new JsonObject(), stamp, version);
            }
        }
    }

    private static JsonObject Stamp(JsonObject meta, string stamp, long? version)
    {
        meta[LastUpdated] = stamp;
        if (version is { } v)
        {
            meta[LastUpdatedVersion] = v;
        }

        return meta;
    }
}
