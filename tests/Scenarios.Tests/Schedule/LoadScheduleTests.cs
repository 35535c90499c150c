using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Schedule;

public class LoadScheduleTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Ramp_asks_for_devices_linearly_and_holds_within_one_percent()
    {
        var schedule = new LoadSchedule([new RampPhase(1000, S(10), null), new HoldPhase(S(5), null)], S(0), 1000);
        Assert.Equal(S(15), schedule.Duration);
        for (var t = 0.0; t <= 10; t += 0.05)
        {
            var asked = 100.0 * t; // 1000 devices over 10 s
            Assert.InRange(schedule.TargetAt(S(t)), asked - 10, asked + 1); // within 1 % of the fleet
        }

        Assert.Equal(1000, schedule.TargetAt(S(12)));
        Assert.Equal(1000, schedule.Peak);
    }

    [Fact]
    public void Inject_adds_devices_per_second_and_ramp_down_removes_them()
    {
        var schedule = new LoadSchedule(
        [
            new InjectPhase(20, S(5), null),
            new RampDownPhase(40, S(6), null),
            new PausePhase(S(2)),
        ], S(0), 1000);
        Assert.Equal(0, schedule.TargetAt(S(0)));
        Assert.Equal(50, schedule.TargetAt(S(2.5)));
        Assert.Equal(100, schedule.TargetAt(S(5)));
        Assert.Equal(70, schedule.TargetAt(S(8)));
        Assert.Equal(40, schedule.TargetAt(S(11.5)));
        Assert.IsType<PausePhase>(schedule.PhaseAt(S(12))!.Value.Phase);
        Assert.Equal(100, schedule.Peak);
    }

    [Fact]
    public void Targets_are_capped_at_the_fleet_size()
    {
        var schedule = new LoadSchedule([new InjectPhase(100, S(10), null)], S(0), 250);
        Assert.Equal(200, schedule.TargetAt(S(2)));
        Assert.Equal(250, schedule.TargetAt(S(2.5)));
        Assert.Equal(250, schedule.TargetAt(S(9)));
        Assert.Equal(S(2.5), schedule.DueAt(250, TimeSpan.Zero));
    }

    [Fact]
    public void A_longer_scenario_duration_holds_after_the_last_phase()
    {
        var schedule = new LoadSchedule([new RampPhase(10, S(2), null)], S(30), 10);
        Assert.Equal(S(30), schedule.Duration);
        Assert.Equal(10, schedule.TargetAt(S(29)));
        Assert.Null(schedule.PhaseAt(S(10)));
    }

    [Fact]
    public void Each_device_is_due_when_the_schedule_first_asked_for_it()
    {
        var schedule = new LoadSchedule([new HoldPhase(S(1), null), new RampPhase(100, S(10), null)], S(0), 100);
        Assert.Equal(S(1.1), schedule.DueAt(1, TimeSpan.Zero));
        Assert.Equal(S(6), schedule.DueAt(50, TimeSpan.Zero));
        Assert.Equal(S(11), schedule.DueAt(100, TimeSpan.Zero));
        foreach (var k in new[] { 1, 17, 50, 99, 100 })
        {
            var due = schedule.DueAt(k, TimeSpan.Zero);
            Assert.True(schedule.TargetAt(due + TimeSpan.FromTicks(1)) >= k, $"device {k} is not asked for at its due time {due}");
            Assert.True(schedule.TargetAt(due - TimeSpan.FromMilliseconds(1)) < k, $"device {k} was asked for before {due}");
        }
    }

    [Fact]
    public void Device_order_interleaves_groups_in_proportion()
    {
        var order = new DeviceOrder([300, 100, 600]);
        Assert.Equal(1000, order.Count);
        var counts = new int[3];
        var next = new int[3];
        for (var k = 0; k < order.Count; k++)
        {
            var (group, index) = order[k];
            Assert.Equal(next[group]++, index); // each group starts its devices in index order
            counts[group]++;
            if (k % 100 == 99)
            {
                // At every 10 % of the fleet, each group holds its share (within one device).
                Assert.InRange(counts[0], 0.3 * (k + 1) - 1, 0.3 * (k + 1) + 1);
                Assert.InRange(counts[1], 0.1 * (k + 1) - 1, 0.1 * (k + 1) + 1);
                Assert.InRange(counts[2], 0.6 * (k + 1) - 1, 0.6 * (k + 1) + 1);
            }
        }

        Assert.Equal([300, 100, 600], counts);
    }
}
