using Akka.Actor;
using Akka.TestKit;
using FleetSim.Metrics;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>The runner paced to a hub's limits, in virtual time: starts capped at the paced connect rate, intervals lengthened.</summary>
public class ScenarioRunnerPacingTests : RunnerTestKit
{
    private (EventFleet Fleet, FleetMetrics Metrics) StartRunner(Scenario scenario, PacingLimits? limits)
    {
        var fleet = new EventFleet();
        var metrics = new FleetMetrics();
        StartRunner(ScenarioRunner.Props(scenario, fleet, metrics, pacing: LoadPacing.Plan(scenario, limits)));
        return (fleet, metrics);
    }

    [Fact]
    public void Devices_asked_all_at_once_start_at_the_paced_connect_rate_and_the_hold_keeps_its_length()
    {
        var scenario = Parse("""
            name: paced
            devices: {count: 100, idPrefix: d-}
            duration: 5s
            """);
        var (fleet, _) = StartRunner(scenario, new PacingLimits(10, null, "test")); // 9 connects/s

        Advance(TimeSpan.FromSeconds(5));
        Assert.InRange(fleet.Starts.Count, 44, 46); // 9 per second, not 100 at once
        Advance(TimeSpan.FromSeconds(6.5));
        Assert.Equal(100, fleet.Starts.Count);

        // Each was due on the paced schedule, 1/9 s apart (their connect latency counts from there, not from the asked time).
        var due = fleet.Starts.Select(s => s.DueAt).ToList();
        for (var i = 1; i < due.Count; i++)
            Assert.InRange((due[i] - due[i - 1]).TotalSeconds, 1 / 9.0 - 1e-6, 1 / 9.0 + 1e-6);

        // The ramp took 11.1 s instead of 0; the 5 s of holding the whole fleet still follow it.
        Advance(TimeSpan.FromSeconds(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.False(fleet.StoppedAll);
        Advance(TimeSpan.FromSeconds(2));
        var finished = ExpectMsg<ScenarioRunner.Finished>();
        Assert.True(finished.Completed);
        Assert.Equal(100, finished.Peak);
    }

    [Fact]
    public void After_a_stall_the_devices_that_fell_due_start_at_the_paced_rate_not_all_at_once()
    {
        var scenario = Parse("""
            name: stalled
            devices: {count: 100, idPrefix: d-}
            duration: 5s
            """);
        var (fleet, _) = StartRunner(scenario, new PacingLimits(10, null, "test")); // 9 connects/s
        Advance(TimeSpan.FromSeconds(1));
        var beforeStall = fleet.Starts.Count;

        // The machine stalls for 2 s: the next tick comes that late (the 18 devices due meanwhile are overdue).
        var probe = CreateTestProbe();
        Clock.Advance(TimeSpan.FromSeconds(2));
        Runner.Tell(new Identify(0), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
        var afterStall = fleet.Starts.Count;
        Advance(TimeSpan.FromSeconds(1));
        var secondAfter = fleet.Starts.Count;

        Assert.InRange(beforeStall, 8, 10);
        Assert.InRange(afterStall - beforeStall, 1, 2); // not 18 at once: the hub's bucket holds about one second of connects
        Assert.InRange(secondAfter - afterStall, 8, 10); // then the paced rate again
        Advance(TimeSpan.FromSeconds(12));
        Assert.Equal(100, fleet.Starts.Count); // every device still starts, later than planned
    }

    [Fact]
    public void Without_pacing_the_same_devices_start_at_once()
    {
        var scenario = Parse("""
            name: unpaced
            devices: {count: 100, idPrefix: d-}
            duration: 5s
            """);
        var (fleet, _) = StartRunner(scenario, limits: null);

        Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(100, fleet.Starts.Count);
    }

    [Fact]
    public void The_paced_telemetry_interval_is_set_before_any_device_starts_and_phase_changes_are_paced_too()
    {
        var scenario = Parse("""
            name: chatty
            deviceGroups:
              - {name: a, count: 50, idPrefix: a-, telemetry: {interval: 1s}}
              - {name: b, count: 50, idPrefix: b-}
            load:
              - ramp: {to: 100, over: 2s}
              - hold: {for: 2s, telemetry: {factor: 2}}
            """);
        // Group a asks 50 msg/s, 100/s in the hold: paced to 9/s, every interval is 100/9 times longer.
        var (fleet, metrics) = StartRunner(scenario, new PacingLimits(null, 10, "test"));

        Advance(TimeSpan.FromSeconds(1));
        var first = fleet.Events[0];
        Assert.Equal(("interval", 0), (first.Kind, first.Group)); // before the first start
        Assert.InRange(first.Interval.TotalSeconds, 11.111, 11.112);
        Assert.DoesNotContain(fleet.Events, e => e.Kind == "interval" && e.Group == 1); // b sends no telemetry

        Advance(TimeSpan.FromSeconds(1.5));
        var changed = fleet.Events.Last(e => e.Kind == "interval");
        Assert.InRange(changed.Interval.TotalSeconds, 5.555, 5.556); // the hold's factor 2 (0.5 s), paced

        // The report's rates: what the scenario asked (50 devices of a at 2/s) and what the paced fleet is asked.
        AwaitAssert(() =>
        {
            Assert.Equal(100, metrics.Gauge(Gauges.TelemetryAskedRate).Value);
            Assert.Equal(9, metrics.Gauge(ScenarioRunner.PacedTelemetryRate).Value);
        });
    }

    private sealed class EventFleet : IFleetDriver
    {
        private readonly Lock _lock = new();

        public List<(string Kind, int Group, TimeSpan Interval)> Events { get; } = [];

        public List<(int Group, int Index, DateTimeOffset DueAt)> Starts { get; } = [];

        public bool StoppedAll { get; private set; }

        public void Start(int group, int index, DateTimeOffset dueAt)
        {
            lock (_lock)
            {
                Starts.Add((group, index, dueAt));
                Events.Add(("start", group, TimeSpan.Zero));
            }
        }

        public void Stop(int group, int index)
        {
        }

        public void SetTelemetryInterval(int group, TimeSpan interval)
        {
            lock (_lock)
                Events.Add(("interval", group, interval));
        }

        public void SetPaused(bool paused)
        {
        }

        public void StopAll(IActorRef whenStopped)
        {
            StoppedAll = true;
            whenStopped.Tell(new ScenarioRunner.FleetStopped());
        }
    }
}
