using System.Diagnostics.CodeAnalysis;

namespace FleetSim.Protocol;

/// <summary>The CONNECT user name: <c>{host}/{clientId}/?api-version={v}[&amp;DeviceClientType={enc}][&amp;model-id={id}]</c>.</summary>
public static class MqttUsername
{
    public const string DefaultApiVersion = "2021-04-12";

    public static string Build(string hostName, string clientId, string apiVersion = DefaultApiVersion, string? productInfo = null, string? modelId = null)
    {
        var name = $"{hostName}/{clientId}/?api-version={apiVersion}";
        if (productInfo is not null)
            name += "&DeviceClientType=" + Uri.EscapeDataString(productInfo);
        if (modelId is not null)
            name += "&model-id=" + modelId; // the Node SDK does not encode it either
        return name;
    }

    /// <summary>
    /// Splits a user name as the hub reads it: host, client id (device or device/module), and query parameters
    /// in any order, values URL-decoded. Accepts the older form without the query (<c>{host}/{deviceId}</c>).
    /// </summary>
    public static bool TryParse(string? username, [NotNullWhen(true)] out string? host, [NotNullWhen(true)] out string? clientId,
        out IReadOnlyDictionary<string, string> parameters)
    {
        host = null;
        clientId = null;
        var query = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        parameters = query;
        if (string.IsNullOrEmpty(username))
            return false;

        var q = username.IndexOf('?');
        var path = (q < 0 ? username : username[..q]).TrimEnd('/');
        if (q >= 0)
        {
            foreach (var pair in username[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                var key = eq < 0 ? pair : pair[..eq];
                var value = eq < 0 ? "" : SafeUnescape(pair[(eq + 1)..]);
                query[key] = value;
            }
        }

        var slash = path.IndexOf('/');
        if (slash <= 0 || slash == path.Length - 1)
            return false;
        host = path[..slash];
        clientId = path[(slash + 1)..];
        return true;
    }

    internal static string SafeUnescape(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return value;
        }
    }
}
