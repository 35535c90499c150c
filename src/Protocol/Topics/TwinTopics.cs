using System.Globalization;

namespace FleetSim.Protocol;

public enum TwinRequestKind
{
    Get,
    PatchReported,
}

/// <summary>Twin topics (PROTOCOL.md section 3). Responses always have <c>/?</c> after the status (the C# SDK needs it).</summary>
public static class TwinTopics
{
    public const string ResponseSubscription = "$iothub/twin/res/#";
    public const string DesiredSubscription = "$iothub/twin/PATCH/properties/desired/#";
    public const string ResponsePrefix = "$iothub/twin/res/";
    public const string DesiredPatchPrefix = "$iothub/twin/PATCH/properties/desired/";
    public const string GetPrefix = "$iothub/twin/GET/";
    public const string PatchReportedPrefix = "$iothub/twin/PATCH/properties/reported/";

    public static string Get(string rid) => $"{GetPrefix}?$rid={rid}";

    public static string PatchReported(string rid) => $"{PatchReportedPrefix}?$rid={rid}";

    public static string Response(int status, string rid, long? version = null) =>
        version is null
            ? $"{ResponsePrefix}{status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}"
            : $"{ResponsePrefix}{status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}&$version={version.Value.ToString(CultureInfo.InvariantCulture)}";

    public static string DesiredPatch(long version) => $"{DesiredPatchPrefix}?$version={version.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParseResponse(string topic, out int status, out string rid, out long? version)
    {
        status = 0;
        rid = "";
        version = null;
        if (!topic.StartsWith(ResponsePrefix, StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan(ResponsePrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out status))
            return false;
        var query = rest[(slash + 1)..];
        if (query.Length == 0 || query[0] != '?')
            return false;
        var q = TopicQuery.Parse(query[1..]);
        if (!q.TryGetValue("$rid", out var r))
            return false;
        rid = r;
        if (q.TryGetValue("$version", out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            version = parsed;
        return true;
    }

    public static bool TryParseDesiredPatch(string topic, out long version)
    {
        version = 0;
        if (!topic.StartsWith(DesiredPatchPrefix, StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan(DesiredPatchPrefix.Length);
        if (rest.Length == 0 || rest[0] != '?')
            return false;
        var q = TopicQuery.Parse(rest[1..]);
        return q.TryGetValue("$version", out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }

    /// <summary>Hub side: a device's twin request, <c>$iothub/twin/GET/?$rid=…</c> or <c>…/PATCH/properties/reported/?$rid=…</c>.</summary>
    public static bool TryParseRequest(string topic, out TwinRequestKind kind, out string rid)
    {
        kind = TwinRequestKind.Get;
        rid = "";
        ReadOnlySpan<char> rest;
        if (topic.StartsWith(GetPrefix, StringComparison.Ordinal))
            rest = topic.AsSpan(GetPrefix.Length);
        else if (topic.StartsWith(PatchReportedPrefix, StringComparison.Ordinal))
        {
            kind = TwinRequestKind.PatchReported;
            rest = topic.AsSpan(PatchReportedPrefix.Length);
        }
        else
            return false;

        if (rest.Length == 0 || rest[0] != '?')
            return false;
        if (!TopicQuery.Parse(rest[1..]).TryGetValue("$rid", out var r) || r.Length == 0)
            return false;
        rid = r;
        return true;
    }
}
