using System.Diagnostics;

namespace FleetSim.Cluster.Worker;

/// <summary>This process's CPU since the previous sample (thousandths of one core) and its resident memory.</summary>
internal sealed class ProcessSampler
{
    private TimeSpan _lastCpu;
    private long _lastTimestamp = Stopwatch.GetTimestamp();

    public (long CpuPermille, long RssBytes) Sample()
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var now = Stopwatch.GetTimestamp();
        var wall = Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalMilliseconds;
        var permille = wall <= 0 ? 0 : (long)Math.Round((cpu - _lastCpu).TotalMilliseconds / wall * 1000);
        _lastCpu = cpu;
        _lastTimestamp = now;
        return (Math.Max(0, permille), process.WorkingSet64);
    }
}
