using System.Diagnostics.CodeAnalysis;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Parsing;

/// <summary>IoT Hub device id rules: at most 128 ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ '.</summary>
internal static class DeviceIdRules
{
    public const int MaxLength = 128;
    private const string Specials = "-.%_*?!(),:=@$'";

    public static bool IsGroupName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is a valid IoT Hub device id.</summary>
    public static bool IsDeviceId(string id)
    {
        if (id.Length is 0 or > MaxLength)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !Specials.Contains(c))
            {
                return false;
            }
        }
        return true;
    }

    public static bool TryCompile(string pattern, int count, [NotNullWhen(true)] out DeviceIdPattern? compiled, [NotNullWhen(false)] out string? error)
    {
        compiled = null;
        var open = pattern.IndexOf("{index", StringComparison.Ordinal);
        var close = open < 0 ? -1 : pattern.IndexOf('}', open);
        if (open < 0 || close < 0)
        {
            error = $"'{pattern}' has no {{index}} placeholder, so every device would get the same id";
            return false;
        }
        if (pattern.IndexOf("{index", close, StringComparison.Ordinal) >= 0)
        {
            error = $"'{pattern}' has {{index}} more than once";
            return false;
        }
        var inside = pattern[(open + 6)..close];
        string? format = null;
        if (inside.Length > 0)
        {
            if (inside[0] != ':' || inside.Length == 1 || !IsPadding(inside[1..]))
            {
                error = $"'{pattern}': the index format '{inside}' is not supported (use {{index}} or {{index:000}})";
                return false;
            }
            format = inside[1..];
        }
        var prefix = pattern[..open];
        var suffix = pattern[(close + 1)..];
        foreach (var c in prefix + suffix)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !Specials.Contains(c))
            {
                error = $"'{pattern}' contains '{c}', which device ids cannot hold";
                return false;
            }
        }
        compiled = new DeviceIdPattern(pattern, prefix, format, suffix);
        var longest = compiled.Format(Math.Max(0, count - 1));
        if (longest.Length > MaxLength)
        {
            error = $"'{pattern}' makes ids longer than {MaxLength} characters ({longest.Length})";
            compiled = null;
            return false;
        }
        error = null;
        return true;
    }

    private static bool IsPadding(string format)
    {
        foreach (var c in format)
        {
            if (c != '0')
            {
                return false;
            }
        }
        return format.Length <= 12;
    }
}
