namespace FleetSim.Protocol;

/// <summary>
/// Splits IoT Hub connection strings the way the SDKs do: pairs on ';', each pair on its first '='
/// (keys are base64 and end in '='). Keys are matched case-insensitively; duplicates are an error.
/// </summary>
internal static class ConnectionStringParser
{
    public static bool TrySplit(string? text, string kind, out Dictionary<string, string> pairs, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"the {kind} connection string is empty";
            return false;
        }

        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                error = $"the {kind} connection string has a part without 'Name=value' (expected pairs separated by ';')";
                return false;
            }

            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            if (!pairs.TryAdd(key, value))
            {
                error = $"the {kind} connection string names '{key}' twice";
                return false;
            }
        }

        return true;
    }

    public static string? Get(Dictionary<string, string> pairs, string key) =>
        pairs.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    public static bool IsBase64(string value)
    {
        Span<byte> buffer = stackalloc byte[256];
        return value.Length <= 344 && Convert.TryFromBase64String(value, buffer, out var written) && written > 0;
    }
}
