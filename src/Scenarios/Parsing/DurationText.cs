using System.Globalization;

namespace FleetSim.Scenarios.Parsing;

/// <summary>Durations as written in scenarios: number + unit (ms, s, m, h), repeatable: 500ms, 30s, 1m30s, 1.5h.</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        error = null;
        var s = text.Trim();
        if (s.Length == 0)
        {
            error = "is empty; expected a duration such as 30s, 500ms, 2m or 1h";
            return false;
        }
        if (s[0] == '-')
        {
            error = $"'{text}' is negative; durations are 0 or more";
            return false;
        }
        var total = 0.0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"'{text}' is not a duration; expected a number with a unit, e.g. 30s, 500ms, 2m, 1h";
                return false;
            }
            while (i < s.Length && s[i] == ' ')
            {
                i++;
            }
            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }
            var unit = s[unitStart..i];
            double? milliseconds = unit switch
            {
                "ms" => number,
                "s" => number * 1000,
                "m" => number * 60_000,
                "h" => number * 3_600_000,
                _ => null,
            };
            if (milliseconds is null)
            {
                error = unit.Length == 0
                    ? $"'{text}' has no unit; write e.g. {s[start..i]}s (units: ms, s, m, h)"
                    : $"'{text}' has an unknown unit '{unit}' (units: ms, s, m, h)";
                return false;
            }
            total += milliseconds.Value;
        }
        if (total > TimeSpan.FromDays(365).TotalMilliseconds)
        {
            error = $"'{text}' is longer than a year";
            return false;
        }
        value = TimeSpan.FromTicks((long)Math.Round(total * TimeSpan.TicksPerMillisecond));
        return true;
    }

    /// <summary>Shortest text that parses back to the value (e.g. 90s -> 1m30s).</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }
        var parts = new List<string>();
        if (value.Hours + (value.Days * 24) > 0)
        {
            parts.Add($"{value.Hours + (value.Days * 24)}h");
        }
        if (value.Minutes > 0)
        {
            parts.Add($"{value.Minutes}m");
        }
        if (value.Seconds > 0)
        {
            parts.Add($"{value.Seconds}s");
        }
        var ms = value.TotalMilliseconds - Math.Floor(value.TotalSeconds) * 1000;
        if (ms > 0)
        {
            parts.Add(ms.ToString("0.###", CultureInfo.InvariantCulture) + "ms");
        }
        return string.Concat(parts);
    }
}
