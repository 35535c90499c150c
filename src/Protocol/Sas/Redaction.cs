using System.Text.RegularExpressions;

namespace FleetSim.Protocol;

/// <summary>Removes secrets (keys, signatures, SAS tokens) from any text bound for a log, console or report.</summary>
public static partial class Redaction
{
    public const string Mask = "***";

    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? "";
        var result = KeyPattern().Replace(text, m => m.Groups[1].Value + Mask);
        result = PasswordPattern().Replace(result, m => m.Groups[1].Value + Mask);
        result = BasicPattern().Replace(result, m => m.Groups[1].Value + Mask);
        return SignaturePattern().Replace(result, m => m.Groups[1].Value + Mask);
    }

    // SharedAccessKey=…, SharedAccessSignature=… (connection strings, up to ';' or quote or whitespace-end of the value).
    [GeneratedRegex(@"((?:SharedAccessKey|SharedAccessSignature|PrimaryKey|SecondaryKey|primaryKey|secondaryKey)""?\s*[=:]\s*""?)(?:SharedAccessSignature\s+)?[^;""\s,}]+", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    // password: …, "password": "…", Password=… (proxy credentials in scenario text, JSON and connection strings).
    [GeneratedRegex(@"(\b(?:password|Password|PASSWORD)""?\s*[=:]\s*[""']?)(?!\*\*\*)[^;""'\s,}]+", RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPattern();

    // Basic credentials in a (Proxy-)Authorization header.
    [GeneratedRegex(@"(\bBasic\s+)[A-Za-z0-9+/]+=*", RegexOptions.CultureInvariant)]
    private static partial Regex BasicPattern();

    // sig=… inside any SAS token, wherever it appears.
    [GeneratedRegex(@"(\bsig=)[^&;""\s]+", RegexOptions.CultureInvariant)]
    private static partial Regex SignaturePattern();
}
