namespace FleetSim.Simulator.Run;

/// <summary>
/// Spaces identity registry calls to a rate (the tier's registry throttle), so a large registration never meets the
/// hub's 429s instead of recovering from them: each call waits for its slot, one slot per 1/rate seconds, no burst.
/// </summary>
public sealed class RegistryPacer(double perSecond, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(1 / perSecond);
    private readonly Lock _gate = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    public double PerSecond { get; } = perSecond;

    /// <summary>Waits until this call's slot.</summary>
    public async ValueTask WaitAsync(CancellationToken ct)
    {
        DateTimeOffset slot;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            slot = _next > now ? _next : now;
            _next = slot + _interval;
        }

        if (slot > now)
            await Task.Delay(slot - now, _time, ct);
    }
}
