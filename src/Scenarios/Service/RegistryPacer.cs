namespace FleetSim.Scenarios.Service;

/// <summary>
/// Keeps identity registry calls under a rate (the tier's registry throttle) so a large registration never meets the
/// hub's 429s: calls go one at a time, and each starts at least 1/rate seconds after the previous one ended. Counting
/// from the end (not the start) keeps the calls spaced as the hub sees them arrive, however long one took on the way.
/// </summary>
public sealed class RegistryPacer(double perSecond, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(1 / perSecond);
    private readonly SemaphoreSlim _turn = new(1, 1);
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    public double PerSecond { get; } = perSecond;

    /// <summary>Waits for this call's turn; dispose the lease when the call has its answer.</summary>
    public async ValueTask<IDisposable> AcquireAsync(CancellationToken ct)
    {
        await _turn.WaitAsync(ct);
        try
        {
            var wait = _next - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, _time, ct);
        }
        catch
        {
            _turn.Release();
            throw;
        }

        return new Lease(this);
    }

    private sealed class Lease(RegistryPacer pacer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            pacer._next = pacer._time.GetUtcNow() + pacer._interval;
            pacer._turn.Release();
        }
    }
}
