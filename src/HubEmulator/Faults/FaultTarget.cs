namespace FleetSim.HubEmulator.Faults;

/// <summary>
/// Which devices a fault may hit: every device (<see cref="Everyone"/>), or those whose id matches one of the
/// patterns. A pattern is an exact id or a glob where <c>*</c> stands for any run of characters
/// (<c>sensor-*</c>, <c>*-eu-*</c>). A scenario's <c>group: NAME</c> arrives here as the group's ids.
/// </summary>
public sealed class FaultTarget
{
    private readonly HashSet<string> _exact;
    private readonly string[] _globs;

    private FaultTarget(IEnumerable<string> patterns)
    {
        _exact = new HashSet<string>(StringComparer.Ordinal);
        var globs = new List<string>();
        foreach (var pattern in patterns)
        {
            ArgumentException.ThrowIfNullOrEmpty(pattern);
            if (pattern.Contains('*'))
            {
                globs.Add(pattern);
            }
            else
            {
                _exact.Add(pattern);
            }
        }

        _globs = [.. globs];
    }

    /// <summary>No restriction: the fault may hit any device.</summary>
    public static FaultTarget Everyone { get; } = new([]);

    public bool IsEveryone => _exact.Count == 0 && _globs.Length == 0;

    /// <summary>Devices whose id equals or matches (with <c>*</c>) one of <paramref name="patterns"/>; none given means everyone.</summary>
    public static FaultTarget Of(IEnumerable<string>? patterns) =>
        patterns is null ? Everyone : new FaultTarget(patterns) is { IsEveryone: false } target ? target : Everyone;

    public bool Matches(string deviceId)
    {
        if (IsEveryone || _exact.Contains(deviceId))
        {
            return true;
        }

        foreach (var glob in _globs)
        {
            if (GlobMatches(glob, deviceId))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() =>
        IsEveryone ? "every device" : _exact.Count + _globs.Length == 1 ? (_globs.FirstOrDefault() ?? _exact.First()) : $"{_exact.Count + _globs.Length} patterns";

    /// <summary>Iterative glob match with backtracking on the last <c>*</c> (linear for the patterns ids use).</summary>
    internal static bool GlobMatches(string glob, string text)
    {
        int g = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (g < glob.Length && glob[g] == '*')
            {
                star = g++;
                mark = t;
            }
            else if (g < glob.Length && glob[g] == text[t])
            {
                g++;
                t++;
            }
            else if (star >= 0)
            {
                g = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (g < glob.Length && glob[g] == '*')
        {
            g++;
        }

        return g == glob.Length;
    }
}
