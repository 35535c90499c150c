namespace FleetSim.Protocol;

/// <summary>Parses the <c>k=v&amp;k=v</c> query of a twin or method topic (keys kept as sent, values URL-decoded).</summary>
internal static class TopicQuery
{
    public static Dictionary<string, string> Parse(ReadOnlySpan<char> query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (pair.IsEmpty)
                continue;
            var eq = pair.IndexOf('=');
            var key = MqttUsername.SafeUnescape((eq < 0 ? pair : pair[..eq]).ToString());
            var value = eq < 0 ? "" : MqttUsername.SafeUnescape(pair[(eq + 1)..].ToString());
            result[key] = value;
        }

        return result;
    }
}
