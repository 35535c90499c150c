using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

/// <summary>Recovery per fault from the devices' connection events and the 1-second series (issue 12, item 3).</summary>
public sealed class RecoveryAnalysisTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset StoppingAt = T0.AddSeconds(60);

    private static RecoveryEvent Lost(string id, double s) => new(id, RecoveryEventKind.Lost, Ms(s), "network");

    private static RecoveryEvent Back(string id, double s) => new(id, RecoveryEventKind.Reconnected, Ms(s), null);

    private static RecoveryEvent Stopped(string id, double s, string reason) => new(id, RecoveryEventKind.Stopped, Ms(s), reason);

    private static long Ms(double s) => T0.AddSeconds(s).ToUnixTimeMilliseconds();

    /// <summary>One sample per second, 0..60; counters and gauges as the functions of the second say.</summary>
    private static List<MetricsSample> Series(Func<int, Dictionary<string, long>> counters, Func<int, Dictionary<string, long>>? gauges = null) =>
        [.. Enumerable.Range(0, 61).Select(s => new MetricsSample(T0.AddSeconds(s), counters(s), gauges?.Invoke(s) ?? [], new Dictionary<string, OperationSample>()))];

    /// <summary>HdrHistogram values: within 0.1 % (3 significant digits).</summary>
    private static void Close(double expectedMs, double? actualMs)
    {
        Assert.NotNull(actualMs);
        Assert.InRange(actualMs.Value, expectedMs * 0.999, expectedMs * 1.001);
    }

    [Fact]
    public void Each_fault_counts_the_devices_it_took_down_how_long_they_took_to_return_and_those_that_never_did()
    {
        FaultWindow?[] faults = [new(T0.AddSeconds(10), T0.AddSeconds(10)), new(T0.AddSeconds(40), T0.AddSeconds(50))];
        RecoveryEvent[] events =
        [
            Lost("d1", 10.1), Back("d1", 12),
            Lost("d2", 10.2), Back("d2", 15),
            Lost("d3", 10.3), Stopped("d3", 60, "stopped"), // still out when the run stopped: never came back
            Lost("d4", 10.4), Stopped("d4", 11, "stopped"), // a ramp-down took it: not the fault's doing
            Lost("d5", 30), Back("d5", 31),                 // after the attribution window, before the next fault: no fault's
            Lost("d6", 41), Back("d6", 52),
            Lost("d7", 44), Stopped("d7", 45, "unauthorized"),
        ];

        var result = RecoveryAnalysis.Analyze(faults, events, Series(_ => []), StoppingAt, TimeSpan.Zero, connectLimitPerSecond: null);

        var drop = result.PerFault[0]!;
        Assert.Equal(3, drop.DevicesAffected);
        Assert.Equal(2, drop.DevicesRecovered);
        Close(2000, drop.P50);
        Close(5000, drop.Max);
        Assert.Null(drop.WholeAgainAfterSeconds);
        Assert.Equal(["d3"], drop.NeverReconnectedIds);
        Assert.Equal(30, drop.WindowSeconds); // not whole again: the window runs to the next fault
        var refuse = result.PerFault[1]!;
        Assert.Equal(2, refuse.DevicesAffected);
        Close(12000, refuse.P99);
        Assert.Equal(["d7"], refuse.NeverReconnectedIds);
        var all = result.Summary;
        Assert.Equal((2, 5, 3), (all.Faults, all.DevicesAffected, all.DevicesRecovered));
        Close(5000, all.P50); // the union of 2 s, 5 s and 12 s
        Close(12000, all.P99);
        Close(12000, all.Max);
        Assert.Equal(2, all.NeverReconnected);
        Assert.Equal(["d3", "d7"], all.NeverReconnectedIds);
    }

    [Fact]
    public void The_window_of_a_recovered_fault_ends_when_the_fleet_is_whole_and_measures_the_storm_retries_telemetry_and_hub_losses()
    {
        FaultWindow?[] faults = [new(T0.AddSeconds(10), T0.AddSeconds(10)), null];
        RecoveryEvent[] events = [Lost("d1", 10), Back("d1", 12.5), Lost("d2", 10), Back("d2", 14.25)];
        long[] attemptsPerSecond = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /*11*/ 4, /*12*/ 9, /*13*/ 2, /*14*/ 1, /*15*/ 0, /*16*/ 7];
        var series = Series(
            s => new Dictionary<string, long>
            {
                [RecoveryMetrics.ConnectAttempts] = attemptsPerSecond.Take(Math.Min(s + 1, attemptsPerSecond.Length)).Sum(),
                [RecoveryMetrics.RetriesBecause("network")] = s >= 11 ? 2 : 0,
                [RecoveryMetrics.RetriesBecause("refused")] = s >= 12 ? 3 : 0,
                [RecoveryMetrics.TelemetryQueuedOffline] = s >= 11 ? 6 : 0,
                [RecoveryMetrics.TelemetryResent] = s >= 13 ? 2 : 0,
                [Counters.TelemetryDropped] = s >= 20 ? 1 : 0, // after the window: not the fault's
            },
            s => new Dictionary<string, long> { [RecoveryMetrics.HubLost] = s >= 12 ? 1 : 0, [RecoveryMetrics.HubDuplicated] = 0, [RecoveryMetrics.HubOutOfOrder] = 0 });

        var result = RecoveryAnalysis.Analyze(faults, events, series, StoppingAt, TimeSpan.Zero, connectLimitPerSecond: 5);

        var r = result.PerFault[0]!;
        Assert.Null(result.PerFault[1]);
        Assert.Equal(4.25, r.WholeAgainAfterSeconds);
        Assert.Equal(4.25, r.WindowSeconds);
        Assert.Equal([1.0, 2, 3, 4, 5], r.Storm.Select(p => p.Seconds));
        Assert.Equal([4L, 9, 2, 1, 0], r.Storm.Select(p => p.Attempts));
        Assert.Equal(9, r.ConnectAttemptsPeakPerSecond);
        Assert.Equal(5, r.ConnectLimitPerSecond);
        Assert.Equal(1, r.SecondsOverConnectLimit);
        Assert.Equal(new Dictionary<string, long> { ["network"] = 2, ["refused"] = 3 }, r.RetriesByReason);
        Assert.Equal((6L, 2L, 0L), (r.TelemetryQueuedOffline, r.TelemetryResent, r.TelemetryDropped));
        Assert.Equal((1L, 0L, 0L), (r.HubLost, r.HubDuplicated, r.HubOutOfOrder));
        Assert.Equal(0, r.NeverReconnected);
    }

    [Fact]
    public void A_loss_soon_after_a_fault_counts_only_within_the_attribution_window_and_hub_figures_are_null_without_hub_accounting()
    {
        FaultWindow?[] faults = [new(T0.AddSeconds(10), T0.AddSeconds(20))];
        RecoveryEvent[] events = [Lost("late", 55), Back("late", 56), Lost("slow", 49), Back("slow", 50)];

        var result = RecoveryAnalysis.Analyze(faults, events, Series(_ => []), StoppingAt, TimeSpan.FromSeconds(30), null);

        var r = result.PerFault[0]!;
        Assert.Equal(1, r.DevicesAffected); // "slow" noticed 29 s after the end (a keep-alive), "late" 35 s after
        Close(40_000, r.Max);
        Assert.Null(r.HubLost);
        Assert.Null(r.ConnectLimitPerSecond);
    }
}
