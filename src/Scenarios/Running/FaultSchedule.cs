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
    private int _next;

    public int Fired => _next;

    public void Tick(TimeSpan elapsed)
    {
        while (_next < _faults.Length && _faults[_next].At <= elapsed)
            _applied.Add(injection.ApplyAsync(_faults[_next++]));
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
