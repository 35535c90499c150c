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

    public override string ToString() => Pattern;
}
