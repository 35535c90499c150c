using System.Diagnostics;

namespace FleetSim.Scenarios.Running;

/// <summary>This process's CPU use between two samples, as a fraction of all cores: near 1 means the load generator
/// itself is the bottleneck and its measurements include its own queueing.</summary>
public sealed class GeneratorLoad
{
    public const double SaturatedAbove = 0.95;

    private TimeSpan _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;
    private long _lastTimestamp = Stopwatch.GetTimestamp();

    /// <summary>CPU fraction since the previous call.</summary>
    public double Sample()
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var now = Stopwatch.GetTimestamp();
        var wall = Stopwatch.GetElapsedTime(_lastTimestamp, now);
        var used = cpu - _lastCpu;
        (_lastCpu, _lastTimestamp) = (cpu, now);
        return wall <= TimeSpan.Zero ? 0 : used / wall / Environment.ProcessorCount;
    }

    public bool SampleIsSaturated() => Sample() >= SaturatedAbove;
}
