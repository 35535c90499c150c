using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FleetSim.Protocol;

/// <summary>
/// A device (or module) connection string: <c>HostName=…;DeviceId=…;SharedAccessKey=…</c> with the optional
/// ModuleId, GatewayHostName, SharedAccessKeyName, SharedAccessSignature and x509=true. <see cref="ToString"/>
/// is redacted so it can go into logs; <see cref="ToSecretString"/> is the real thing.
/// </summary>
public sealed record DeviceConnectionString(
    string HostName,
    string DeviceId,
    string? ModuleId = null,
    string? SharedAccessKey = null,
    string? SharedAccessKeyName = null,
    string? SharedAccessSignature = null,
    string? GatewayHostName = null,
    bool UsesX509 = false)
{
    public static DeviceConnectionString Parse(string text) =>
        TryParse(text, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out DeviceConnectionString? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (!ConnectionStringParser.TrySplit(text, "device", out var pairs, out error))
            return false;

        var host = ConnectionStringParser.Get(pairs, "HostName");
        var deviceId = ConnectionStringParser.Get(pairs, "DeviceId");
        var key = ConnectionStringParser.Get(pairs, "SharedAccessKey");
        var sas = ConnectionStringParser.Get(pairs, "SharedAccessSignature");
        var x509 = string.Equals(ConnectionStringParser.Get(pairs, "x509"), "true", StringComparison.OrdinalIgnoreCase);

        foreach (var name in pairs.Keys)
        {
            if (!KnownKeys.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                error = $"the device connection string has an unknown part '{name}' (expected {string.Join(", ", KnownKeys)})";
                return false;
            }
        }

        if (host is null) error = "the device connection string has no HostName";
        else if (deviceId is null) error = "the device connection string has no DeviceId";
        else if (key is null && sas is null && !x509)
            error = "the device connection string needs SharedAccessKey, SharedAccessSignature or x509=true";
        else if (key is not null && !ConnectionStringParser.IsBase64(key))
            error = "the device connection string's SharedAccessKey is not base64";
        else if (sas is not null && !SasToken.TryParse(sas, out _, out var sasError))
            error = $"the device connection string's SharedAccessSignature is invalid: {sasError}";

        if (error is not null)
            return false;
        error = null;

        result = new DeviceConnectionString(host!, deviceId!, ConnectionStringParser.Get(pairs, "ModuleId"), key,
            ConnectionStringParser.Get(pairs, "SharedAccessKeyName"), sas, ConnectionStringParser.Get(pairs, "GatewayHostName"), x509);
        return true;
    }

    /// <summary>The MQTT client id: <c>{deviceId}</c> or <c>{deviceId}/{moduleId}</c>.</summary>
    public string ClientId => ModuleId is null ? DeviceId : $"{DeviceId}/{ModuleId}";

    /// <summary>The SAS resource this identity signs: <c>{host}/devices/{id}[/modules/{mid}]</c>.</summary>
    public string SasResource => ModuleId is null ? $"{HostName}/devices/{DeviceId}" : $"{HostName}/devices/{DeviceId}/modules/{ModuleId}";

    public string ToSecretString() => Build(redact: false);

    public override string ToString() => Build(redact: true);

    private string Build(bool redact)
    {
        var sb = new StringBuilder();
        sb.Append("HostName=").Append(HostName).Append(";DeviceId=").Append(DeviceId);
        if (ModuleId is not null) sb.Append(";ModuleId=").Append(ModuleId);
        if (SharedAccessKeyName is not null) sb.Append(";SharedAccessKeyName=").Append(SharedAccessKeyName);
        if (SharedAccessKey is not null) sb.Append(";SharedAccessKey=").Append(redact ? Redaction.Mask : SharedAccessKey);
        if (SharedAccessSignature is not null) sb.Append(";SharedAccessSignature=").Append(redact ? Redaction.Mask : SharedAccessSignature);
        if (GatewayHostName is not null) sb.Append(";GatewayHostName=").Append(GatewayHostName);
        if (UsesX509) sb.Append(";x509=true");
        return sb.ToString();
    }

    private static readonly string[] KnownKeys =
        ["HostName", "DeviceId", "ModuleId", "SharedAccessKey", "SharedAccessKeyName", "SharedAccessSignature", "GatewayHostName", "x509"];
}
