using System.Globalization;
using System.Runtime.InteropServices;

namespace FleetSim.Bench.Peer;

/// <summary>One reading of a process: CPU time used so far (user + system) and resident set size.</summary>
public readonly record struct ProcSample(DateTime At, long CpuTicks, long RssBytes);

/// <summary>
/// Reads CPU (utime + stime, fields 14 and 15 of /proc/PID/stat, in clock ticks) and RSS (VmRSS of
/// /proc/PID/status) of any process on this machine. Linux only.
/// </summary>
public static class ProcSampler
{
    private static readonly Lazy<long> TicksPerSecondLazy = new(() =>
    {
        var ticks = OperatingSystem.IsLinux() ? SysConf(2 /* _SC_CLK_TCK */) : 100;
        return ticks > 0 ? ticks : 100;
    });

    /// <summary>Kernel clock ticks per second (USER_HZ), usually 100.</summary>
    public static long TicksPerSecond => TicksPerSecondLazy.Value;

    public static double TicksToMs(long ticks) => ticks * 1000.0 / TicksPerSecond;

    /// <summary>Null when the process is gone.</summary>
    public static ProcSample? TryRead(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var status = File.ReadAllText($"/proc/{pid}/status");
            return new ProcSample(DateTime.UtcNow, ParseCpuTicks(stat), ParseRssBytes(status));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// utime + stime from a /proc/PID/stat line. The command name (field 2) is in parentheses and may itself hold
    /// spaces and parentheses, so the fields are counted from the last ')'.
    /// </summary>
    public static long ParseCpuTicks(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
            throw new FormatException("/proc stat line without a command name in parentheses");
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field n is fields[n - 3]: utime (14) = [11], stime (15) = [12].
        if (fields.Length < 13)
            throw new FormatException($"/proc stat line with {fields.Length + 2} fields, expected at least 15");
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>VmRSS from /proc/PID/status (kB), in bytes.</summary>
    public static long ParseRssBytes(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
                continue;
            var parts = line["VmRSS:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB")
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            throw new FormatException($"unexpected VmRSS line '{line}'");
        }

        throw new FormatException("no VmRSS line in /proc status");
    }

    [DllImport("libc", EntryPoint = "sysconf")]
#pragma warning disable SYSLIB1054 // one call at start-up; LibraryImport would need unsafe code enabled
    private static extern long SysConf(int name);
#pragma warning restore SYSLIB1054
}

/// <summary>Samples a set of processes once per second on a background task, keeping every sample.</summary>
public sealed class ProcessSampling : IAsyncDisposable
{
    private readonly Dictionary<string, List<ProcSample>> _samples = new();
    private readonly Dictionary<string, int> _pids = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProcessSampling(TimeSpan every) => _loop = LoopAsync(every);

    public void Watch(string name, int pid)
    {
        lock (_samples)
        {
            _pids[name] = pid;
            _samples[name] = [];
        }
    }

    public void Forget(string name)
    {
        lock (_samples)
            _pids.Remove(name);
    }

    /// <summary>The samples of <paramref name="name"/> taken between two instants.</summary>
    public IReadOnlyList<ProcSample> Between(string name, DateTime from, DateTime to)
    {
        lock (_samples)
            return _samples.TryGetValue(name, out var list) ? list.Where(s => s.At >= from && s.At <= to).ToList() : [];
    }

    private async Task LoopAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                KeyValuePair<string, int>[] pids;
                lock (_samples)
                    pids = _pids.ToArray();
                foreach (var (name, pid) in pids)
                {
                    if (ProcSampler.TryRead(pid) is { } sample)
                    {
                        lock (_samples)
                            _samples[name].Add(sample);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
