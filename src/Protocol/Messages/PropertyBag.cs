using System.Text;

namespace FleetSim.Protocol;

/// <summary>
/// The URL-encoded property bag at the end of telemetry and C2D topics: <c>k=v&amp;k=v</c>; <c>$</c> is sent as
/// <c>%24</c>; a null value is written as the bare key, an empty one as <c>key=</c> (PROTOCOL.md section 3).
/// </summary>
public static class PropertyBag
{
    public static string Encode(IEnumerable<KeyValuePair<string, string?>> properties)
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in properties)
        {
            if (sb.Length > 0)
                sb.Append('&');
            sb.Append(Uri.EscapeDataString(key));
            if (value is not null)
                sb.Append('=').Append(Uri.EscapeDataString(value));
        }

        return sb.ToString();
    }

    /// <summary>Decodes a bag; keys and values are URL-decoded (so <c>%24.mid</c> becomes <c>$.mid</c>).</summary>
    public static List<KeyValuePair<string, string?>> Decode(string? bag)
    {
        var result = new List<KeyValuePair<string, string?>>();
        if (string.IsNullOrEmpty(bag))
            return result;
        foreach (var pair in bag.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Unescape(eq < 0 ? pair : pair[..eq]);
            string? value = eq < 0 ? null : Unescape(pair[(eq + 1)..]);
            result.Add(new KeyValuePair<string, string?>(key, value));
        }

        return result;
    }

    /// <summary>Finds one property in an encoded bag without decoding the rest (hub hot path).</summary>
    public static bool TryGetValue(ReadOnlySpan<char> bag, string key, out ReadOnlySpan<char> rawValue)
    {
        rawValue = default;
        foreach (var range in bag.Split('&'))
        {
            var pair = bag[range];
            var eq = pair.IndexOf('=');
            if (eq < 0 || !pair[..eq].SequenceEqual(key))
                continue;
            rawValue = pair[(eq + 1)..];
            return true;
        }

        return false;
    }

    private static string Unescape(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }
}
