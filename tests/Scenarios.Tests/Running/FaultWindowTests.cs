using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>The fault windows the recovery analysis gets: each firing's kind and the devices it may have taken down.</summary>
public sealed class FaultWindowTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static async Task<IReadOnlyList<FleetSim.Reporting.FaultWindow?>> Fire(IReadOnlyList<FaultSpec> faults, IFaultInjection injection,
        Func<string, IReadOnlyList<string>?>? groups = null)
    {
        var schedule = new FaultSchedule(faults, injection, groups);
        schedule.Tick(TimeSpan.FromSeconds(60), DateTimeOffset.UnixEpoch.AddSeconds(60));
        await schedule.DescribeAsync();
        return schedule.Windows();
    }

    [Fact]
    public async Task A_drop_names_the_devices_it_closed_and_a_restart_at_the_same_second_hits_everyone()
    {
        var injection = new Injection(fault => fault switch
        {
            DropConnectionsFault => new AppliedFault("drop", "dropped 1", null, ["d0"]),
            _ => new AppliedFault("hub-restart", "restart", TimeSpan.FromSeconds(20), ["d0", "d1", "d2"]),
        });

        var windows = await Fire([new DropConnectionsFault(TimeSpan.FromSeconds(60), 0.1, null), new HubRestartFault(TimeSpan.FromSeconds(60), 20 * Second)], injection);

        var drop = windows[0]!;
        Assert.Equal("drop", drop.Kind);
        Assert.Equal(["d0"], drop.Devices!);
        Assert.True(drop.MayHit("d0"));
        Assert.False(drop.MayHit("d1"));
        var restart = windows[1]!;
        Assert.Equal("hub-restart", restart.Kind);
        Assert.Null(restart.Devices);
        Assert.True(restart.MayHit("d9")); // everyone, whether it was connected or not
        Assert.Equal(restart.Start, drop.Start);
        Assert.Equal(restart.Start + 20 * Second, restart.End);
    }

    [Fact]
    public async Task A_drop_that_cannot_name_every_connection_it_closed_may_have_hit_anyone()
    {
        var injection = new Injection(_ => new AppliedFault("drop", "cut 3", null, ["d0"]) { Affected = 3 });

        var windows = await Fire([new DropConnectionsFault(TimeSpan.FromSeconds(60), 0.5, null)], injection);

        Assert.Null(windows[0]!.Devices);
    }

    [Fact]
    public async Task A_timed_fault_hits_the_group_it_targeted_or_everyone_when_its_ids_are_patterns()
    {
        var injection = new Injection(fault => new AppliedFault(FaultSchedule.KindOf(fault), "timed", 5 * Second, []));
        FaultSpec[] faults =
        [
            new LatencyFault(TimeSpan.FromSeconds(60), 300 * TimeSpan.FromMilliseconds(1), TimeSpan.Zero, 5 * Second) { Target = new FaultTargetSpec("gateways", []) },
            new RefuseConnectsFault(TimeSpan.FromSeconds(60), 5 * Second) { Target = new FaultTargetSpec(null, ["s-*"]) },
            new DelayAcksFault(TimeSpan.FromSeconds(60), Second, 5 * Second),
        ];

        var windows = await Fire(faults, injection, group => group == "gateways" ? ["g-0", "g-1"] : null);

        Assert.Equal(["g-0", "g-1"], windows[0]!.Devices!.Order());
        Assert.Equal("latency", windows[0]!.Kind);
        Assert.Null(windows[1]!.Devices);
        Assert.Null(windows[2]!.Devices);
    }

    [Fact]
    public async Task A_fault_ticked_late_keeps_its_planned_moment_and_counts_its_window_from_when_it_was_applied()
    {
        var injection = new Injection(fault => new AppliedFault(FaultSchedule.KindOf(fault), "refused", 5 * Second, []));
        var schedule = new FaultSchedule([new RefuseConnectsFault(TimeSpan.FromSeconds(3), 5 * Second)], injection);

        // The machine was busy: the first tick after the planned 3 s came at 7.5 s.
        schedule.Tick(TimeSpan.FromSeconds(2.95), DateTimeOffset.UnixEpoch.AddSeconds(102.95));
        schedule.Tick(TimeSpan.FromSeconds(7.5), DateTimeOffset.UnixEpoch.AddSeconds(107.5));
        var record = Assert.Single(await schedule.DescribeAsync());
        var window = Assert.Single(schedule.Windows())!;

        Assert.Equal(3, record.AtSeconds);
        Assert.Equal(7.5, record.AppliedAtSeconds);
        Assert.Equal(12.5, record.EndSeconds);
        Assert.True(record.AppliedLate);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(107.5), window.Start);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(112.5), window.End);
    }

    [Fact]
    public async Task A_fault_the_hub_applied_after_the_call_counts_from_the_hubs_moment_never_before_the_call()
    {
        var tick = DateTimeOffset.UnixEpoch.AddSeconds(100);
        var injection = new Injection(fault => fault is DropConnectionsFault
            ? new AppliedFault("drop", "dropped 1", null, ["d0"]) { At = tick.AddMilliseconds(800) } // a slow REST call to the hub
            : new AppliedFault("latency", "slow", 5 * Second, []) { At = tick.AddSeconds(-1) });   // a clock a little behind
        var schedule = new FaultSchedule([new DropConnectionsFault(TimeSpan.FromSeconds(3), 1, null),
            new LatencyFault(TimeSpan.FromSeconds(3), Second, TimeSpan.Zero, 5 * Second)], injection);

        schedule.Tick(TimeSpan.FromSeconds(3), tick);
        var records = await schedule.DescribeAsync();
        var windows = schedule.Windows();

        Assert.Equal(3.8, records[0].AppliedAtSeconds);
        Assert.Equal(tick.AddMilliseconds(800), windows[0]!.Start);
        Assert.Equal(3, records[1].AppliedAtSeconds);
        Assert.False(records[1].AppliedLate);
        Assert.Equal(tick, windows[1]!.Start);
    }

    private sealed class Injection(Func<FaultSpec, AppliedFault> apply) : IFaultInjection
    {
        public Task<AppliedFault> ApplyAsync(FaultSpec fault, IReadOnlyList<string>? target) => Task.FromResult(apply(fault));
    }
}
