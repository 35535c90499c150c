using System.Globalization;

namespace FleetSim.Protocol;

/// <summary>
/// Direct-method topics. The hub publishes <c>$iothub/methods/POST/{name}/?$rid={rid}</c> with <c>$rid</c> as the only
/// parameter (the C# SDK reads it by position); the device answers on <c>$iothub/methods/res/{status}/?$rid={rid}</c>.
/// </summary>
public static class MethodTopics
{
    public const string Subscription = "$iothub/methods/POST/#";
    public const string RequestPrefix = "$iothub/methods/POST/";
    public const string ResponsePrefix = "$iothub/methods/res/";

    public static string Request(string name, string rid) => $"{RequestPrefix}{name}/?$rid={rid}";

    public static string Response(int status, string rid) => $"{ResponsePrefix}{status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}";

    public static bool TryParseRequest(string topic, out string name, out string rid)
    {
        name = "";
        rid = "";
        if (!topic.StartsWith(RequestPrefix, StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan(RequestPrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || rest.Length < slash + 2 || rest[slash + 1] != '?')
            return false;
        if (!TopicQuery.Parse(rest[(slash + 2)..]).TryGetValue("$rid", out var r) || r.Length == 0)
            return false;
        name = rest[..slash].ToString();
        rid = r;
        return true;
    }

    public static bool TryParseResponse(string topic, out int status, out string rid)
    {
        status = 0;
        rid = "";
        if (!topic.StartsWith(ResponsePrefix, StringComparison.Ordinal))
            return false;
        var rest = topic.AsSpan(ResponsePrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out status))
            return false;
        if (rest.Length < slash + 2 || rest[slash + 1] != '?')
            return false;
        if (!TopicQuery.Parse(rest[(slash + 2)..]).TryGetValue("$rid", out var r) || r.Length == 0)
            return false;
        rid = r;
        return true;
    }
}
