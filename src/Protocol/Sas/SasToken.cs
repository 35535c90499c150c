using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FleetSim.Protocol;

/// <summary>
/// A shared access signature: <c>SharedAccessSignature sr={enc-resource}&amp;sig={enc-base64}&amp;se={unix}[&amp;skn={policy}]</c>.
/// The signature is HMAC-SHA256, keyed with the base64-decoded key, over the URL-encoded resource exactly as it
/// appears in the token, a newline, and the expiry (PROTOCOL.md section 2). Fields parse in any order.
/// </summary>
public sealed class SasToken
{
    public const string Prefix = "SharedAccessSignature ";

    private SasToken(string rawResource, string resource, string signature, string rawExpiry, long expiry, string? keyName)
    {
        RawResource = rawResource;
        Resource = resource;
        Signature = signature;
        RawExpiry = rawExpiry;
        ExpiryUnixSeconds = expiry;
        KeyName = keyName;
    }

    /// <summary>The <c>sr</c> value as it appears in the token (URL-encoded); this is what was signed.</summary>
    public string RawResource { get; }

    /// <summary>The URL-decoded resource, e.g. <c>myhub.azure-devices.net/devices/d1</c>.</summary>
    public string Resource { get; }

    /// <summary>The URL-decoded base64 signature.</summary>
    public string Signature { get; }

    public string RawExpiry { get; }

    public long ExpiryUnixSeconds { get; }

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(ExpiryUnixSeconds);

    /// <summary>The policy name (<c>skn</c>), absent for device-key tokens.</summary>
    public string? KeyName { get; }

    /// <summary>Builds a token for <paramref name="resource"/> (not encoded, e.g. <c>host/devices/d1</c>).</summary>
    public static string Create(string resource, string keyBase64, DateTimeOffset expiresAt, string? keyName = null)
    {
        var encodedResource = Uri.EscapeDataString(resource);
        var expiry = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Sign(keyBase64, encodedResource, expiry);
        var token = $"{Prefix}sr={encodedResource}&sig={Uri.EscapeDataString(signature)}&se={expiry}";
        return keyName is null ? token : $"{token}&skn={Uri.EscapeDataString(keyName)}";
    }

    public static SasToken Parse(string token) =>
        TryParse(token, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string? token, [NotNullWhen(true)] out SasToken? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        error = null;
        if (string.IsNullOrWhiteSpace(token) || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = "a SAS token starts with 'SharedAccessSignature '";
            return false;
        }

        string? sr = null, sig = null, se = null, skn = null;
        foreach (var field in token[Prefix.Length..].Split('&'))
        {
            var eq = field.IndexOf('=');
            if (eq <= 0)
            {
                error = $"the SAS token has a field without 'name=value': '{Redaction.Redact(field)}'";
                return false;
            }

            var value = field[(eq + 1)..];
            switch (field[..eq])
            {
                case "sr": sr = value; break;
                case "sig": sig = value; break;
                case "se": se = value; break;
                case "skn": skn = value; break;
                default:
                    error = $"the SAS token has an unknown field '{field[..eq]}' (expected sr, sig, se, skn)";
                    return false;
            }
        }

        if (string.IsNullOrEmpty(sr)) error = "the SAS token has no 'sr' (resource)";
        else if (string.IsNullOrEmpty(sig)) error = "the SAS token has no 'sig' (signature)";
        else if (string.IsNullOrEmpty(se)) error = "the SAS token has no 'se' (expiry)";
        else if (!long.TryParse(se, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            error = "the SAS token's 'se' is not a number of seconds since 1970";
        if (error is not null)
            return false;

        var expiry = long.Parse(se!, NumberStyles.None, CultureInfo.InvariantCulture);
        if (expiry > 253402300799)
        {
            error = "the SAS token's 'se' is beyond the year 9999";
            return false;
        }

        result = new SasToken(sr!, Uri.UnescapeDataString(sr!), Uri.UnescapeDataString(sig!), se!, expiry,
            skn is null ? null : Uri.UnescapeDataString(skn));
        return true;
    }

    /// <summary>True when the signature was made with <paramref name="keyBase64"/> (constant-time comparison).</summary>
    public bool IsSignatureValid(string keyBase64)
    {
        string expected;
        try
        {
            expected = Sign(keyBase64, RawResource, RawExpiry);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Signature));
    }

    public bool IsExpired(DateTimeOffset now) => now.ToUnixTimeSeconds() >= ExpiryUnixSeconds;

    /// <summary>
    /// True when the token's resource is a segment prefix (case-insensitive) of <c>{hostName}/{path}</c>:
    /// <c>sr=host</c> covers everything on the hub, <c>sr=host/devices/d1</c> covers that device only.
    /// </summary>
    public bool Covers(string hostName, string path)
    {
        var target = path.Length == 0 ? hostName : $"{hostName}/{path.TrimStart('/')}";
        var resource = Resource.TrimEnd('/');
        if (!target.StartsWith(resource, StringComparison.OrdinalIgnoreCase))
            return false;
        return target.Length == resource.Length || target[resource.Length] == '/';
    }

    private static string Sign(string keyBase64, string encodedResource, string expiry)
    {
        var key = Convert.FromBase64String(keyBase64);
        var data = Encoding.UTF8.GetBytes($"{encodedResource}\n{expiry}");
        return Convert.ToBase64String(HMACSHA256.HashData(key, data));
    }

    public override string ToString() => $"{Prefix}sr={RawResource}&sig={Redaction.Mask}&se={RawExpiry}" + (KeyName is null ? "" : $"&skn={KeyName}");
}
