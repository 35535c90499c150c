using System.Diagnostics.CodeAnalysis;

namespace FleetSim.Protocol;

/// <summary>
/// A hub (service) connection string: <c>HostName=…;SharedAccessKeyName=iothubowner;SharedAccessKey=…</c>.
/// <see cref="ToString"/> is redacted; <see cref="ToSecretString"/> is the real thing.
/// </summary>
public sealed record ServiceConnectionString(string HostName, string SharedAccessKeyName, string SharedAccessKey)
{
    public static ServiceConnectionString Parse(string text) =>
        TryParse(text, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ServiceConnectionString? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (!ConnectionStringParser.TrySplit(text, "hub", out var pairs, out error))
            return false;

        var host = ConnectionStringParser.Get(pairs, "HostName");
        var keyName = ConnectionStringParser.Get(pairs, "SharedAccessKeyName");
        var key = ConnectionStringParser.Get(pairs, "SharedAccessKey");
        if (pairs.ContainsKey("DeviceId"))
            error = "this is a device connection string (it has DeviceId); a hub connection string with SharedAccessKeyName is expected";
        else if (host is null) error = "the hub connection string has no HostName";
        else if (keyName is null) error = "the hub connection string has no SharedAccessKeyName (for example iothubowner)";
        else if (key is null) error = "the hub connection string has no SharedAccessKey";
        else if (!ConnectionStringParser.IsBase64(key)) error = "the hub connection string's SharedAccessKey is not base64";

        if (error is not null)
            return false;
        error = null;

        result = new ServiceConnectionString(host!, keyName!, key!);
        return true;
    }

    /// <summary>A service token for the whole hub (<c>sr={host}</c>, <c>skn={policy}</c>).</summary>
    public string CreateSasToken(TimeSpan ttl, DateTimeOffset now) =>
        SasToken.Create(HostName, SharedAccessKey, now + ttl, SharedAccessKeyName);

    public string ToSecretString() => $"HostName={HostName};SharedAccessKeyName={SharedAccessKeyName};SharedAccessKey={SharedAccessKey}";

    public override string ToString() => $"HostName={HostName};SharedAccessKeyName={SharedAccessKeyName};SharedAccessKey={Redaction.Mask}";
}
