using System.Globalization;

namespace FleetSim.Scenarios.Model;

/// <summary>
/// A device id pattern: literal text around one <c>{index}</c> or <c>{index:FORMAT}</c> (a .NET numeric
/// format such as 00000 for zero padding). Built by the parser, which checks the characters and format.
/// </summary>
public sealed class DeviceIdPattern
{
    private readonly string prefix;
    private readonly string suffix;
    private readonly string? format;

    internal DeviceIdPattern(string pattern, string prefix, string? format, string suffix)
    {
        Pattern = pattern;
        this.prefix = prefix;
        this.format = format;
        this.suffix = suffix;
    }

    /// <summary>The pattern as written, e.g. sensor-{index:00000}.</summary>
    public string Pattern { get; }

    public string Format(int index) =>
        string.Concat(prefix, index.ToString(format, CultureInfo.InvariantCulture), suffix);

    /// <summary>
    /// The index whose id is <paramref name="deviceId"/>, if this pattern makes it for some index below
    /// <paramref name="count"/> (the reverse of <see cref="Format"/>, without enumerating ids).
    /// </summary>
    public bool TryParseIndex(string deviceId, int count, out int index)
    {
        index = -1;
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
