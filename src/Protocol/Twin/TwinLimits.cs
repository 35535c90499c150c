using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetSim.Protocol;

/// <summary>IoT Hub's twin document limits (PROTOCOL.md section 4).</summary>
public static class TwinLimits
{
    public const int MaxKeyBytes = 1024;
    public const int MaxStringBytes = 4096;
    public const long MaxSafeInteger = 4503599627370495;
    public const int MaxDepth = 10;
    public const int MaxPropertiesBytes = 32 * 1024;
    public const int MaxTagsBytes = 8 * 1024;

    /// <summary>Checks a desired or reported section (or a patch to one); the error names the offending path.</summary>
    public static bool Validate(JsonObject section, [NotNullWhen(false)] out string? error, int maxBytes = MaxPropertiesBytes)
    {
        error = Check(section, "", 1);
        if (error is not null)
            return false;
        var size = Encoding.UTF8.GetByteCount(section.ToJsonString());
        if (size > maxBytes)
            error = $"the document is {size} bytes; the limit is {maxBytes}";
        return error is null;
    }

    private static string? Check(JsonObject obj, string path, int depth)
    {
        if (depth > MaxDepth)
            return $"'{path}' nests deeper than {MaxDepth} levels";
        foreach (var (key, value) in obj)
        {
            var here = path.Length == 0 ? key : $"{path}.{key}";
            if (key.StartsWith('$'))
                continue; // $version, $metadata and the like are the hub's own
            if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
                return $"the key '{Truncate(here)}' is longer than {MaxKeyBytes} bytes";
            foreach (var c in key)
            {
                if (c == '.' || c == '$' || c == ' ' || char.IsControl(c))
                    return $"the key '{Truncate(here)}' contains '{(char.IsControl(c) ? "control character" : c.ToString())}', which twin keys may not";
            }

            var error = value switch
            {
                JsonObject child => Check(child, here, depth + 1),
                JsonArray array => CheckArray(array, here, depth + 1),
                JsonValue v => CheckValue(v, here),
                _ => null,
            };
            if (error is not null)
                return error;
        }

        return null;
    }

    private static string? CheckArray(JsonArray array, string path, int depth)
    {
        if (depth > MaxDepth)
            return $"'{path}' nests deeper than {MaxDepth} levels";
        foreach (var item in array)
        {
            var error = item switch
            {
                JsonObject child => Check(child, path, depth + 1),
                JsonArray inner => CheckArray(inner, path, depth + 1),
                JsonValue v => CheckValue(v, path),
                _ => null,
            };
            if (error is not null)
                return error;
        }

        return null;
    }

    private static string? CheckValue(JsonValue value, string path)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String when Encoding.UTF8.GetByteCount(value.GetValue<string>()) > MaxStringBytes:
                return $"the string at '{path}' is longer than {MaxStringBytes} bytes";
            case JsonValueKind.Number:
                if (value.TryGetValue<long>(out var l) && Math.Abs(l) > MaxSafeInteger)
                    return $"the integer at '{path}' is outside +/-{MaxSafeInteger}";
                if (!value.TryGetValue<long>(out _) && value.TryGetValue<decimal>(out var d) && decimal.Truncate(d) == d && Math.Abs(d) > MaxSafeInteger)
                    return $"the integer at '{path}' is outside +/-{MaxSafeInteger}";
                return null;
            default:
                return null;
        }
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
