using FleetSim.Scenarios.Running;
using FleetSim.Scenarios.Service;

namespace FleetSim.Simulator.Hub;

/// <summary>
/// The hub's ingest accounting, read once a second over REST (<c>fleetsim/stats?run=</c>, this run's counts merged over
/// partitions by the front), for the runner's mid-run threshold checks: an in-process hub answers those directly, a partitioned one
/// lives in other processes. Null until the first answer.
/// </summary>
public sealed class IngestPoll : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private IngestTotals? _latest;

    public IngestPoll(HubServiceClient service, string runId) => _loop = PollAsync(service, "fleetsim/stats?run=" + Uri.EscapeDataString(runId), _stop.Token);

    public IngestTotals? Latest => Volatile.Read(ref _latest);

    private async Task PollAsync(HubServiceClient service, string path, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                try
                {
                    var s = await service.GetJsonAsync(path, ct);
                    Volatile.Write(ref _latest, new IngestTotals(
                        s["ingested"]?.GetValue<long>() ?? 0, s["lost"]?.GetValue<long>() ?? 0, s["duplicated"]?.GetValue<long>() ?? 0, s["outOfOrder"]?.GetValue<long>() ?? 0));
                }
                catch (Exception e) when (e is HubServiceException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    // a missed second: the next one reads again (the run's final accounting does not depend on this)
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
