namespace FleetSim.Bench;

/// <summary>This process's allocations, collections and GC pauses at one moment (what a window cost: <see cref="Since"/>).</summary>
internal readonly record struct GcSnapshot(long Allocated, int Gen0, int Gen1, int Gen2, TimeSpan Paused)
{
    public static GcSnapshot Take() =>
        new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    /// <summary>"allocated N B per message, GCs gen0/gen1/gen2 a/b/c, GC pauses P ms (S % of the window)".</summary>
    public string Since(GcSnapshot before, long messages, TimeSpan window)
    {
        var paused = (Paused - before.Paused).TotalMilliseconds;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"allocated {(messages > 0 ? (Allocated - before.Allocated) / (double)messages : 0):0} B per message, GCs gen0/gen1/gen2 {Gen0 - before.Gen0}/{Gen1 - before.Gen1}/{Gen2 - before.Gen2}, "
            + $"GC pauses {paused:0.0} ms ({100 * paused / Math.Max(1, window.TotalMilliseconds):0.00} % of the window)");
    }
}
