namespace FleetSim.Metrics;

/// <summary>A monotonically growing count, safe to bump from any thread without locks.</summary>
public sealed class Counter
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Add(long n) => Interlocked.Add(ref _value, n);
}

/// <summary>A level that goes up and down (e.g. connected devices); remembers the highest level seen.</summary>
public sealed class Gauge
{
    private long _value;
    private long _peak;

    public long Value => Interlocked.Read(ref _value);

    public long Peak => Interlocked.Read(ref _peak);

    public void Increment() => RaisePeak(Interlocked.Increment(ref _value));

    public void Decrement() => Interlocked.Decrement(ref _value);

    public void Set(long v)
    {
        Interlocked.Exchange(ref _value, v);
        RaisePeak(v);
    }

    private void RaisePeak(long candidate)
    {
        var peak = Interlocked.Read(ref _peak);
        while (candidate > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peak, candidate, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}
