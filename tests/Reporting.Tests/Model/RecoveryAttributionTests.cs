using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

/// <summary>Which fault a loss is credited to when faults coincide: the one whose target and kind match it, recency last.</summary>
public sealed class RecoveryAttributionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset StoppingAt = T0.AddSeconds(120);
    private static readonly TimeSpan Attribution = TimeSpan.FromSeconds(50); // 1.5 keep-alives of 30 s + 5 s, as a run computes it

    private static RecoveryEvent Lost(string id, double s, string reason = "network") => new(id, RecoveryEventKind.Lost, Ms(s), reason);

    private static RecoveryEvent Back(string id, double s) => new(id, RecoveryEventKind.Reconnected, Ms(s), null);

    private static long Ms(double s) => T0.AddSeconds(s).ToUnixTimeMilliseconds();

    private static List<MetricsSample> Series() =>
        [.. Enumerable.Range(0, 121).Select(s => new MetricsSample(T0.AddSeconds(s), new Dictionary<string, long>(), new Dictionary<string, long>(), new Dictionary<string, OperationSample>()))];

    private static FaultWindow Drop(double s, params string[] closed) =>
        new(T0.AddSeconds(s), T0.AddSeconds(s)) { Kind = "drop", Devices = new HashSet<string>(closed, StringComparer.Ordinal) };

    private static FaultWindow Restart(double s, double down) => new(T0.AddSeconds(s), T0.AddSeconds(s + down)) { Kind = "hub-restart" };

    private static RecoveryResult Analyze(FaultWindow?[] faults, RecoveryEvent[] events) =>
        RecoveryAnalysis.Analyze(faults, events, Series(), StoppingAt, Attribution, connectLimitPerSecond: null);

    /// <summary>Ten devices; the drop closed d0 (10 %), the restart closed the other nine, all at second 60.</summary>
    private static RecoveryEvent[] DropAndRestartAt60()
    {
        var events = new List<RecoveryEvent> { Lost("d0", 60.05), Back("d0", 61) };
        for (var i = 1; i < 10; i++)
        {
            events.Add(Lost($"d{i}", 60.1));
            events.Add(Back($"d{i}", 80 + i)); // the listener is down for 20 s
        }

        return [.. events];
    }

    [Fact]
    public void A_drop_and_a_hub_restart_at_the_same_second_each_get_their_own_devices_and_recovery_row()
    {
        FaultWindow?[] faults = [Drop(60, "d0"), Restart(60, 20)];

        var result = Analyze(faults, DropAndRestartAt60());

        var drop = result.PerFault[0]!;
        var restart = result.PerFault[1]!;
        Assert.Equal((1, 1), (drop.DevicesAffected, drop.DevicesRecovered));
        Assert.InRange(drop.Max!.Value, 999, 1001); // d0 was back after 1 s
        Assert.Equal((9, 9), (restart.DevicesAffected, restart.DevicesRecovered));
        Assert.InRange(restart.Max!.Value, 28_970, 29_030); // d9 came back at 89 s
        Assert.Equal(29, restart.WholeAgainAfterSeconds);
        Assert.Equal(10, result.Summary.DevicesAffected);
    }

    [Fact]
    public void The_order_the_two_faults_fired_in_does_not_change_the_credit()
    {
        FaultWindow?[] faults = [Restart(60, 20), Drop(60, "d0")];

        var result = Analyze(faults, DropAndRestartAt60());

        Assert.Equal(9, result.PerFault[0]!.DevicesAffected);
        Assert.Equal(1, result.PerFault[1]!.DevicesAffected);
    }

    [Fact]
    public void A_device_the_drop_did_not_close_is_not_the_drops_even_when_the_drop_is_the_latest_fault()
    {
        // A restart at 40 s (down 20 s) and a drop of 10 % at 60 s that closed only d0: d5 lost its connection at 61 s with
        // no fault of its own kind named it, so the restart (everyone, still in its window) is the only match.
        FaultWindow?[] faults = [Restart(40, 20), Drop(60, "d0")];
        RecoveryEvent[] events = [Lost("d0", 60.1), Back("d0", 61), Lost("d5", 61), Back("d5", 63)];

        var result = Analyze(faults, events);

        Assert.Equal(1, result.PerFault[1]!.DevicesAffected);
        Assert.Equal(1, result.PerFault[0]!.DevicesAffected);
    }

    [Fact]
    public void A_timeout_goes_to_the_blackhole_that_silenced_the_device_rather_than_to_a_later_drop_that_closed_it()
    {
        // The blackhole silenced d1 at 10 s; the drop at 20 s closed d1's silent connection too, but d1 only noticed
        // through its keep-alive (a timeout) at 40 s: the blackhole's kind explains it, the drop's does not.
        var blackhole = new FaultWindow(T0.AddSeconds(10), T0.AddSeconds(70)) { Kind = "blackhole", Devices = new HashSet<string>(["d1"]) };
        FaultWindow?[] faults = [blackhole, Drop(20, "d1", "d2")];
        RecoveryEvent[] events = [Lost("d1", 40, "timeout"), Back("d1", 41), Lost("d2", 20.1), Back("d2", 21)];

        var result = Analyze(faults, events);

        Assert.Equal(1, result.PerFault[0]!.DevicesAffected);
        Assert.InRange(result.PerFault[0]!.Max!.Value, 30_970, 31_030);
        Assert.Equal(1, result.PerFault[1]!.DevicesAffected);
    }

    [Fact]
    public void A_drop_takes_a_device_down_once_so_a_later_loss_of_that_device_is_not_the_drops()
    {
        // Drops every 20 s with a 50 s attribution window: the drop at 20 s closed d1, which came back at 21 s; d1's loss
        // at 45 s is inside that drop's window, but the drop had already taken it down once, and the drop at 40 s closed
        // only d2. No fault caused it.
        FaultWindow?[] faults = [Drop(20, "d1"), Drop(40, "d2")];
        RecoveryEvent[] events = [Lost("d1", 20.1), Back("d1", 21), Lost("d2", 40.1), Back("d2", 41), Lost("d1", 45), Back("d1", 46)];

        var result = Analyze(faults, events);

        var first = result.PerFault[0]!;
        Assert.Equal(1, first.DevicesAffected);
        Assert.InRange(first.Max!.Value, 999, 1001); // d1's recovery from the drop, not from its later loss
        Assert.Equal(1, result.PerFault[1]!.DevicesAffected);
        Assert.Equal(2, result.Summary.DevicesAffected);
    }

    [Fact]
    public void With_two_matching_faults_of_the_same_kind_the_latest_wins()
    {
        // Neither names devices (a proxy restart and a drop whose ids are unknown): recency decides.
        var first = new FaultWindow(T0.AddSeconds(10), T0.AddSeconds(10)) { Kind = "drop" };
        var second = new FaultWindow(T0.AddSeconds(12), T0.AddSeconds(12)) { Kind = "drop" };
        FaultWindow?[] faults = [first, second];

        var result = Analyze(faults, [Lost("d1", 12.5), Back("d1", 13)]);

        Assert.Equal(0, result.PerFault[0]!.DevicesAffected);
        Assert.Equal(1, result.PerFault[1]!.DevicesAffected);
    }
}
