using System.Globalization;

namespace FleetSim.Scenarios.Model;

/// <summary>
/// A device id pattern: literal text around one <c>{index}</c> or <c>{index:FORMAT}</c> (a .NET numeric
/// format such as 00000 for zero padding). Built by the parser, which checks the characters and format.
/// A group created from connection strings has an explicit list of ids instead (<see cref="FromList"/>).
/// </summary>
public sealed class DeviceIdPattern
{
    private readonly string prefix;
    private readonly string suffix;
    private readonly string? format;
    private readonly IReadOnlyList<string>? list;
    private readonly Dictionary<string, int>? indexes;

    internal DeviceIdPattern(string pattern, string prefix, string? format, string suffix)
    {
        Pattern = pattern;
        this.prefix = prefix;
        this.format = format;
        this.suffix = suffix;
    }

    private DeviceIdPattern(string label, IReadOnlyList<string> ids)
    {
        Pattern = label;
        prefix = suffix = "";
        list = ids;
        indexes = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++)
        {
            indexes.TryAdd(ids[i], i);
        }
    }

    /// <summary>Ids given one by one (from a connection-strings file); <paramref name="label"/> names the list in reports and errors.</summary>
    public static DeviceIdPattern FromList(string label, IReadOnlyList<string> ids) => new(label, ids);

    /// <summary>The pattern as written, e.g. sensor-{index:00000}, or the label of an explicit list.</summary>
    public string Pattern { get; }

    public string Format(int index) =>
        list is not null ? list[index] : string.Concat(prefix, index.ToString(format, CultureInfo.InvariantCulture), suffix);

    /// <summary>
    /// The index whose id is <paramref name="deviceId"/>, if this pattern makes it for some index below
    /// <paramref name="count"/> (the reverse of <see cref="Format"/>, without enumerating ids).
    /// </summary>
    public bool TryParseIndex(string deviceId, int count, out int index)
    {
        index = -1;
        if (indexes is not null)
        {
            if (indexes.TryGetValue(deviceId, out var found) && found < count)
            {
                index = found;
                return true;
            }
            return false;
        }
        if (deviceId.Length <= prefix.Length + suffix.Length
            || !deviceId.StartsWith(prefix, StringComparison.Ordinal) || !deviceId.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }
        var digits = deviceId.AsSpan(prefix.Length, deviceId.Length - prefix.Length - suffix.Length);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value >= count
            || !string.Equals(Format(value), deviceId, StringComparison.Ordinal))
        {
            return false;
        }
        index = value;
        return true;
    }

    public override string ToString() => Pattern;
}
