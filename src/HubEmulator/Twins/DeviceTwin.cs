using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Twins;

/// <summary>Result of a twin update: the new section version, or why it was rejected.</summary>
internal readonly record struct TwinUpdate(bool Ok, long Version, string? Error, bool PreconditionFailed = false)
{
    internal static TwinUpdate Rejected(string error) => new(false, 0, error);
}

/// <summary>
/// One device twin (PROTOCOL.md section 4): tags, desired and reported properties with their own versions
/// (start at 1, +1 per update), <c>$metadata</c> with <c>$lastUpdated</c> at every level, and the twin's
/// overall version and etag. Reported patches and desired PATCHes merge (null deletes); PUT replaces.
/// All access is serialized per twin; snapshots are deep copies.
/// </summary>
public sealed class DeviceTwin
{
    private readonly Lock _gate = new();
    // The sections are replaced on every update, never mutated in place, so all new twins can share one empty
    // object (a fleet of 100k devices mostly never writes its twin).
    private static readonly JsonObject Empty = [];
    private JsonObject _tags = Empty;
    private JsonObject _desired = Empty;
    private JsonObject _reported = Empty;
    private readonly DateTimeOffset _created;
    private JsonObject? _desiredMeta; // created at the first write: most twins of a load test are never written
    private JsonObject? _reportedMeta;
    private long _desiredVersion = 1;
    private long _reportedVersion = 1;
    private long _version = 1;

    internal DeviceTwin(DateTimeOffset created) => _created = created;

    public long DesiredVersion
    {
        get { lock (_gate) { return _desiredVersion; } }
    }

    public long ReportedVersion
    {
        get { lock (_gate) { return _reportedVersion; } }
    }

    /// <summary>Twin etag: base64 of the 8-byte big-endian twin version, as IoT Hub shows it ("AAAAAAAAAAE=").</summary>
    public string ETag
    {
        get { lock (_gate) { return EtagOf(_version); } }
    }

    /// <summary>The twin's tags (a copy).</summary>
    public JsonObject ServiceTags()
    {
        lock (_gate)
        {
            return (JsonObject)_tags.DeepClone();
        }
    }

    /// <summary>
    /// The current tags, desired and reported sections for the query engine, without copying: sections are replaced on
    /// every update, never mutated once published, so readers may walk them (and must not change them).
    /// </summary>
    internal (JsonObject Tags, JsonObject Desired, JsonObject Reported) Sections()
    {
        lock (_gate)
        {
            return (_tags, _desired, _reported);
        }
    }

    /// <summary>What a device gets for <c>$iothub/twin/GET</c>: desired and reported with <c>$version</c>, nothing else.</summary>
    public JsonObject DeviceView()
    {
        lock (_gate)
        {
            var desired = (JsonObject)_desired.DeepClone();
            desired["$version"] = _desiredVersion;
            var reported = (JsonObject)_reported.DeepClone();
            reported["$version"] = _reportedVersion;
            return new JsonObject { ["desired"] = desired, ["reported"] = reported };
        }
    }

    /// <summary>The twin-owned part of the service view: etag, version, tags and properties with $metadata.</summary>
    internal void WriteServiceView(JsonObject target)
    {
        lock (_gate)
        {
            target["etag"] = EtagOf(_version);
            target["version"] = _version;
            target["tags"] = _tags.DeepClone();
            target["properties"] = new JsonObject
            {
                ["desired"] = Section(_desired, _desiredMeta ?? NewMeta(), _desiredVersion),
                ["reported"] = Section(_reported, _reportedMeta ?? NewMeta(), _reportedVersion),
            };
        }
    }

    /// <summary>A device's reported patch: merged, null deletes; the new reported version on success.</summary>
    internal TwinUpdate PatchReported(JsonObject patch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(patch);
        lock (_gate)
        {
            var merged = (JsonObject)_reported.DeepClone();
            JsonMerge.Apply(merged, (JsonObject)patch.DeepClone());
            if (!TwinLimits.Validate(merged, out var error))
            {
                return TwinUpdate.Rejected(error);
            }

            _reported = merged;
            _reportedVersion++;
            _version++;
            TwinMetadata.ApplyPatch(_reportedMeta ??= NewMeta(), patch, now, version: null);
            return new TwinUpdate(true, _reportedVersion, null);
        }
    }

    /// <summary>
    /// A service PATCH (<paramref name="replace"/> false: merge) or PUT (true: replace tags and desired). Returns
    /// the update and the desired document to push to the device (patch or full replacement, with <c>$version</c>),
    /// or null when desired did not change.
    /// </summary>
    internal (TwinUpdate Update, JsonObject? DesiredPush) UpdateFromService(
        JsonObject? tags, JsonObject? desired, bool replace, string? ifMatch, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (ifMatch is not null && ifMatch != "*" && !string.Equals(ifMatch.Trim().Trim('"'), EtagOf(_version), StringComparison.Ordinal))
            {
                return (new TwinUpdate(false, 0, "The twin's etag does not match If-Match.", PreconditionFailed: true), null);
            }

            var newTags = _tags;
            if (tags is not null || replace)
            {
                newTags = replace ? Merge([], tags ?? []) : Merge(_tags, tags!); // merging into {} drops nulls
                if (!TwinLimits.Validate(newTags, out var tagsError, TwinLimits.MaxTagsBytes))
                {
                    return (TwinUpdate.Rejected("tags: " + tagsError), null);
                }
            }

            JsonObject? newDesired = null;
            if (desired is not null || replace)
            {
                newDesired = replace ? Merge([], desired ?? []) : Merge(_desired, desired!);
                if (!TwinLimits.Validate(newDesired, out var desiredError))
                {
                    return (TwinUpdate.Rejected("properties.desired: " + desiredError), null);
                }
            }

            _tags = newTags;
            _version++;
            if (newDesired is null)
            {
                return (new TwinUpdate(true, _desiredVersion, null), null);
            }

            _desired = newDesired;
            _desiredVersion++;
            if (replace)
            {
                _desiredMeta = TwinMetadata.ForDocument(newDesired, now, _desiredVersion);
            }
            else
            {
                TwinMetadata.ApplyPatch(_desiredMeta ??= NewMeta(), desired!, now, _desiredVersion);
            }

            var push = (JsonObject)(replace ? newDesired.DeepClone() : desired!.DeepClone());
            push["$version"] = _desiredVersion;
            return (new TwinUpdate(true, _desiredVersion, null), push);
        }
    }

    internal static string EtagOf(long version)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, version);
        return Convert.ToBase64String(bytes);
    }

    internal static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private JsonObject NewMeta() => new() { ["$lastUpdated"] = Timestamp(_created) };

    private static JsonObject Merge(JsonObject current, JsonObject patch)
    {
        var merged = (JsonObject)current.DeepClone();
        JsonMerge.Apply(merged, (JsonObject)patch.DeepClone());
        return merged;
    }

    private static JsonObject Section(JsonObject values, JsonObject metadata, long version)
    {
        var section = (JsonObject)values.DeepClone();
        section["$metadata"] = metadata.DeepClone();
        section["$version"] = version;
        return section;
    }
}
