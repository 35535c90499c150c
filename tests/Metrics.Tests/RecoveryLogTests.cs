namespace FleetSim.Metrics.Tests;

/// <summary>The device side's record of connection losses and twin checks, locally and across nodes (issue 12).</summary>
public sealed class RecoveryLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Events_are_kept_in_recording_order_with_their_time_and_reason()
    {
        var log = new RecoveryLog();
        log.Lost("d1", T0, "network");
        log.Reconnected("d1", T0.AddSeconds(3));
        log.Stopped("d2", T0.AddSeconds(4), "unauthorized");

        Assert.Equal(
        [
            new RecoveryEvent("d1", RecoveryEventKind.Lost, T0.ToUnixTimeMilliseconds(), "network"),
            new RecoveryEvent("d1", RecoveryEventKind.Reconnected, T0.ToUnixTimeMilliseconds() + 3000, null),
            new RecoveryEvent("d2", RecoveryEventKind.Stopped, T0.ToUnixTimeMilliseconds() + 4000, "unauthorized"),
        ], log.Events());
    }

    [Fact]
    public void A_full_log_keeps_its_capacity_and_counts_what_it_left_out()
    {
        var log = new RecoveryLog(capacity: 2);
        log.Lost("d1", T0, "network");
        log.Lost("d2", T0, "network");
        log.Lost("d3", T0, "network");

        Assert.Equal(2, log.Events().Count);
        Assert.Equal(1, log.Discarded);
    }

    [Fact]
    public void A_nodes_events_and_twin_checks_reach_the_coordinator_once()
    {
        var node = new FleetMetrics(exportIntervals: true);
        var coordinator = new FleetMetrics();
        node.Recovery.Lost("d1", T0, "network");
        node.Twin.Record(new TwinCheck("d1", ReportedMatches: false, DesiredApplied: 2, DesiredAtHub: 3, Unchecked: null));
        coordinator.Absorb("n1", node.TakeInterval());
        node.Recovery.Reconnected("d1", T0.AddSeconds(2));
        coordinator.Absorb("n1", node.TakeInterval());
        coordinator.Absorb("n1", node.TakeInterval()); // nothing new: nothing repeated

        Assert.Equal([RecoveryEventKind.Lost, RecoveryEventKind.Reconnected], coordinator.Recovery.Events().Select(e => e.Kind));
        Assert.Empty(node.Recovery.Events()); // a worker does not keep what it sent
        var check = Assert.Single(coordinator.Twin.Latest());
        Assert.True(check.ReportedDiverged);
        Assert.True(check.DesiredBehind);
    }

    [Fact]
    public void A_device_checked_twice_counts_with_its_latest_check()
    {
        var log = new ConvergenceLog();
        log.Record(new TwinCheck("d1", ReportedMatches: false, 1, 1, null));
        log.Record(new TwinCheck("d1", ReportedMatches: true, 2, 2, null));
        log.Record(new TwinCheck("d0", ReportedMatches: true, 0, 0, "not connected"));

        Assert.Equal(["d0", "d1"], log.Latest().Select(c => c.DeviceId));
        Assert.False(log.Latest()[1].Diverged);
        Assert.False(log.Latest()[0].Checked);
        Assert.False(log.Latest()[0].Diverged); // unchecked is not diverged: it is counted apart
    }
}
