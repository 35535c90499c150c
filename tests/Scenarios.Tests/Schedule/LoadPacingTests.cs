using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Schedule;

/// <summary>The pacing computations: phases lengthened to the connect limit, the timeline mapped, telemetry intervals lengthened.</summary>
public class LoadPacingTests
{
    private static readonly PacingLimits S1 = new(100, 100, "tier S1 x 1");

    private static Scenario Parse(string yaml)
    {
        var result = ScenarioLoader.LoadFromText(yaml, "test.yaml");
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Scenario!;
    }

    [Fact]
    public void A_ramp_faster_than_the_connect_limit_is_lengthened_to_the_paced_rate_and_the_phases_after_it_move_later()
    {
        var scenario = Parse("""
            name: big
            devices: {count: 20000, idPrefix: d-}
            load:
              - ramp: {to: 20000, over: 20s}
              - hold: {for: 1m}
            """);

        var pacing = LoadPacing.Plan(scenario, S1);

        Assert.True(pacing.ConnectsPaced);
        Assert.Equal(90, pacing.ConnectRate);
        var ramp = Assert.IsType<RampPhase>(pacing.Load[0]);
        Assert.InRange(ramp.Over.TotalSeconds, 222.22, 222.23); // 20,000 devices at 90/s
        Assert.Equal(TimeSpan.FromMinutes(1), pacing.Load[1].Duration);
        Assert.InRange(pacing.Duration.TotalSeconds, 282.22, 282.23);
        var line = Assert.Single(pacing.Describe());
        Assert.Equal("connects paced to 90/s by tier S1 x 1 (100 new connections/s, paced at 90%): the ramps take 3m42s instead of 20s; "
                     + "the phases after them (and faults) start up to 3m22s later and the run lasts 4m42s instead of 1m20s", line);
    }

    [Fact]
    public void A_schedule_of_the_paced_phases_never_asks_for_devices_faster_than_the_paced_rate()
    {
        var scenario = Parse("""
            name: shapes
            devices: {count: 500, idPrefix: d-}
            load:
              - ramp: {to: 100, over: 0s}
              - inject: {perSecond: 200, for: 1s}
              - hold: {for: 2s}
              - rampDown: {to: 50, over: 1s}
              - ramp: {to: 500, over: 3s}
            """);

        var pacing = LoadPacing.Plan(scenario, new PacingLimits(50, null, "test"));
        var schedule = new LoadSchedule(pacing.Load, pacing.Duration, scenario.TotalDevices);

        // Walk the schedule as the runner does (a tick every 50 ms) and check each start is at least 1/45 s after the previous one.
        var previous = TimeSpan.MinValue;
        var active = 0;
        var lastStop = TimeSpan.Zero;
        var started = 0;
        for (var t = TimeSpan.Zero; t <= pacing.Duration + TimeSpan.FromMilliseconds(100); t += TimeSpan.FromMilliseconds(50))
        {
            var target = schedule.TargetAt(t);
            for (; active < target; active++, started++)
            {
                var due = schedule.DueAt(active + 1, lastStop);
                if (previous != TimeSpan.MinValue)
                    Assert.True((due - previous).TotalSeconds >= 1 / 45.0 - 1e-6, $"device {started} due {due} only {(due - previous).TotalMilliseconds} ms after the previous");
                previous = due;
            }

            for (; active > target; active--)
                lastStop = t;
        }

        Assert.Equal(500, active); // the same fleet as asked, only later
        Assert.Equal(300, schedule.TargetAt(pacing.Load[0].Duration + pacing.Load[1].Duration)); // the inject still adds its 200
    }

    [Fact]
    public void An_inject_faster_than_the_limit_adds_the_same_devices_at_the_paced_rate()
    {
        var scenario = Parse("""
            name: inject
            devices: {count: 200, idPrefix: d-}
            load:
              - inject: {perSecond: 50, for: 4s}
              - hold: {for: 10s}
            """);

        var pacing = LoadPacing.Plan(scenario, new PacingLimits(10, null, "test"));

        var inject = Assert.IsType<InjectPhase>(pacing.Load[0]);
        Assert.Equal(9, inject.PerSecond, 6);
        Assert.InRange(inject.For.TotalSeconds, 22.22, 22.23); // 200 devices at 9/s
        var schedule = new LoadSchedule(pacing.Load, pacing.Duration, 200);
        Assert.Equal(200, schedule.TargetAt(inject.For));
        Assert.Equal(99, schedule.TargetAt(TimeSpan.FromSeconds(11)));
    }

    [Fact]
    public void Faults_keep_their_place_in_the_phases_on_the_paced_timeline()
    {
        var scenario = Parse("""
            name: faults
            hub:
              embedded:
                faults:
                  - {at: 5s, dropConnections: {fraction: 0.5}}
                  - {at: 30s, every: 5s, until: 40s, dropConnections: {fraction: 0.1}}
            devices: {count: 1000, idPrefix: d-}
            load:
              - ramp: {to: 1000, over: 10s}
              - hold: {for: 50s}
            """);

        var pacing = LoadPacing.Plan(scenario, new PacingLimits(50, null, "test")); // 45/s: the ramp takes 22.2 s
        var faults = ((EmbeddedHub)scenario.Hub).Options.Faults.Select(pacing.Shift).ToList();

        Assert.InRange(faults[0].At.TotalSeconds, 11.11, 11.12); // half way through the ramp, as asked
        Assert.InRange(faults[1].At.TotalSeconds, 42.22, 42.23); // 20 s into the hold
        Assert.InRange(faults[1].Until!.Value.TotalSeconds, 52.22, 52.23);
        Assert.Equal(TimeSpan.FromSeconds(5), faults[1].Every); // a repeat keeps its period
        Assert.InRange(pacing.Duration.TotalSeconds, 72.22, 72.23);
    }

    [Fact]
    public void Load_within_the_limits_is_left_as_the_scenario_asks()
    {
        var scenario = Parse("""
            name: small
            devices: {count: 100, idPrefix: d-, connectRate: 50}
            telemetry: {interval: 2s}
            duration: 1m
            """);

        var pacing = LoadPacing.Plan(scenario, S1);

        Assert.Same(scenario.Load, pacing.Load);
        Assert.Equal(scenario.Duration, pacing.Duration);
        Assert.False(pacing.Changed);
        Assert.Equal(50, pacing.AskedTelemetryPeak, 6);
        Assert.Empty(pacing.Describe());
        Assert.Equal(TimeSpan.FromSeconds(2), pacing.PacedInterval(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Without_limits_nothing_is_paced()
    {
        var scenario = Parse("""
            name: unpaced
            devices: {count: 20000, idPrefix: d-}
            telemetry: {interval: 1s}
            duration: 1m
            """);

        var pacing = LoadPacing.None(scenario);

        Assert.Null(pacing.Limits);
        Assert.False(pacing.Changed);
        Assert.Same(scenario.Load, pacing.Load);
        Assert.Empty(pacing.Describe());
    }

    [Fact]
    public void Telemetry_over_the_send_limit_lengthens_every_interval_by_one_factor()
    {
        var scenario = Parse("""
            name: chatty
            deviceGroups:
              - {name: fast, count: 600, idPrefix: f-, telemetry: {interval: 1s}}
              - {name: slow, count: 400, idPrefix: s-, telemetry: {interval: 10s}}
              - {name: quiet, count: 1000, idPrefix: q-}
            duration: 1m
            """);

        var pacing = LoadPacing.Plan(scenario, new PacingLimits(1_000_000, 100, "tier S1 x 1"));

        Assert.Equal(640, pacing.AskedTelemetryPeak, 6); // 600/1 s + 400/10 s; the quiet group sends nothing
        Assert.Equal(640 / 90.0, pacing.TelemetryFactor, 6);
        Assert.Equal(90, pacing.PacedTelemetryPeak, 6);
        Assert.InRange(pacing.PacedInterval(TimeSpan.FromSeconds(1)).TotalSeconds, 7.111, 7.112);
        var line = Assert.Single(pacing.Describe(), l => l.StartsWith("telemetry", StringComparison.Ordinal));
        Assert.StartsWith("telemetry paced to 90 messages/s by tier S1 x 1 (100 device-to-cloud sends/s, paced at 90%): the scenario asks up to 640/s, so every telemetry interval is 7.11 times longer (fast 1s -> 7s, slow 10s -> 1m11s)", line);
    }

    [Fact]
    public void The_asked_telemetry_peak_follows_the_phases_rate_changes_fleet_sizes_and_pauses()
    {
        var scenario = Parse("""
            name: phases
            devices: {count: 1000, idPrefix: d-}
            telemetry: {interval: 1s}
            load:
              - ramp: {to: 200, over: 10s}
              - pause: {for: 10s}
              - hold: {for: 10s, telemetry: {factor: 4}}
              - rampDown: {to: 100, over: 10s}
              - hold: {for: 10s, telemetry: {factor: 10}}
            """);

        var pacing = LoadPacing.Plan(scenario, new PacingLimits(null, 1000, "test"));

        // 200 devices at 4/s (800/s) beat 100 devices at 10/s (1,000/s)? No: the last hold asks 1,000/s, the most.
        Assert.Equal(1000, pacing.AskedTelemetryPeak, 6);
        Assert.Equal(1000 / 900.0, pacing.TelemetryFactor, 6);
        Assert.False(pacing.ConnectsPaced);
    }
}
