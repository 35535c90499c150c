using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>What the hub must offer for scheduled faults (the embedded emulator's fault injector).</summary>
public interface IFaultInjection
{
    /// <summary>Applies the fault now; returns a short description for the log and the report.</summary>
    Task<string> ApplyAsync(FaultSpec fault);
}

/// <summary>
/// The scenario's faults in time order, fired by the runner's tick when their moment comes. Each fault runs once;
/// what it did is kept for the report.
/// </summary>
public sealed class FaultSchedule(IReadOnlyList<FaultSpec> faults, IFaultInjection injection)
{
    private readonly FaultSpec[] _faults = [.. faults.OrderBy(f => f.At)];
    private readonly List<Task<string>> _applied = [];
    private readonly List<DateTimeOffset> _appliedAt = [];
    private int _next;

    public int Fired => _next;

    /// <param name="elapsed">Time since the run started (the scenario's clock).</param>
    /// <param name="now">The moment, on the clock devices record their connection events with.</param>
    public void Tick(TimeSpan elapsed, DateTimeOffset now)
    {
        while (_next < _faults.Length && _faults[_next].At <= elapsed)
        {
            _appliedAt.Add(now);
            _applied.Add(injection.ApplyAsync(_faults[_next++]));
        }
    }

    /// <summary>
    /// When each fault that ran started and ended, in the order of <see cref="DescribeAsync"/>'s records; null for one
    /// that failed to apply. Call after <see cref="DescribeAsync"/> (which waits for every application).
    /// </summary>
    public IReadOnlyList<FleetSim.Reporting.FaultWindow?> Windows()
    {
        var windows = new FleetSim.Reporting.FaultWindow?[_applied.Count];
        for (var i = 0; i < windows.Length; i++)
        {
            if (_applied[i].IsCompletedSuccessfully)
                windows[i] = new(_appliedAt[i], _appliedAt[i] + _faults[i].Lasts);
        }

        return windows;
    }

    /// <summary>One record per fault that ran: its moment and what happened (or why it failed).</summary>
    public async Task<IReadOnlyList<FleetSim.Reporting.FaultRecord>> DescribeAsync()
    {
        var records = new List<FleetSim.Reporting.FaultRecord>(_applied.Count);
        for (var i = 0; i < _applied.Count; i++)
        {
            string what;
            var applied = true;
            try
            {
                what = await _applied[i];
            }
            catch (Exception e)
            {
                what = "failed: " + e.Message;
                applied = false;
            }

            records.Add(new(_faults[i].At.TotalSeconds, what, applied));
        }

        return records;
    }
}
