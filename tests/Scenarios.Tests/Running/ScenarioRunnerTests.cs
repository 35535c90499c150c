using Akka.Actor;
using Akka.TestKit;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

public class ScenarioRunnerTests : RunnerTestKit
{
    private (IActorRef Runner, RecordingFleet Fleet, FleetMetrics Metrics) StartRunner(Scenario scenario)
    {
        var fleet = new RecordingFleet();
        var metrics = new FleetMetrics();
        return (StartRunner(ScenarioRunner.Props(scenario, fleet, metrics)), fleet, metrics);
    }

    [Fact]
    public void Ramp_starts_devices_at_the_asked_rate_and_the_run_completes()
    {
        var scenario = Parse("""
            name: ramp
            devices: {count: 100, idPrefix: d-, connectRate: 10}
            duration: 20s
            """);
        var (_, fleet, _) = StartRunner(scenario);

        Advance(TimeSpan.FromSeconds(5));
        AwaitAssert(() => Assert.InRange(fleet.Started.Count, 49, 51)); // 10 per second for 5 s
        Advance(TimeSpan.FromSeconds(6));
        AwaitAssert(() => Assert.Equal(100, fleet.Started.Count));

        // Each device was due when the schedule asked for it: 10 per second, in order.
        var first = fleet.Started[0].DueAt;
        Assert.InRange((fleet.Started[99].DueAt - first).TotalSeconds, 9.899, 9.901);

        Advance(TimeSpan.FromSeconds(10));
        var finished = ExpectMsg<ScenarioRunner.Finished>();
        Assert.True(finished.Completed);
        Assert.Equal(100, finished.Peak);
        Assert.True(fleet.StoppedAll);
    }

    [Fact]
    public void Connected_at_end_is_taken_before_the_devices_are_stopped()
    {
        var scenario = Parse("""
            name: end
            devices: {count: 10, idPrefix: d-}
            load: [{inject: {perSecond: 10, for: 1s}}]
            duration: 2s
            """);
        var (_, fleet, metrics) = StartRunner(scenario);
        var connected = metrics.Gauge(Gauges.DevicesConnected);
        connected.Set(7); // 7 of the 10 are connected at the end
        fleet.OnStopAll = () => connected.Set(0);

        Advance(TimeSpan.FromSeconds(2.1));
        ExpectMsg<ScenarioRunner.Finished>();

        var report = ReportBuilder.Build(metrics.Snapshot(), new ReportInputs
        {
            Scenario = new ScenarioSection("end", null, null),
            Run = new RunSection(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(2), HubKinds.Embedded, Verdicts.Passed, "completed"),
            DeviceTarget = 10,
        });
        Assert.Equal(0, connected.Value);
        Assert.Equal(7, report.Devices.ConnectedAtEnd);
    }

    [Fact]
    public void Ramp_down_stops_the_newest_devices_and_a_pause_phase_pauses_behaviours()
    {
        var scenario = Parse("""
            name: phases
            devices: {count: 40, idPrefix: d-}
            load:
              - inject: {perSecond: 20, for: 2s}
              - rampDown: {to: 10, over: 3s}
              - pause: {for: 2s}
              - hold: {for: 1s, telemetry: {factor: 2}}
            telemetry: {interval: 1s}
            duration: 8s
            """);
        var (_, fleet, _) = StartRunner(scenario);

        Advance(TimeSpan.FromSeconds(2.1));
        AwaitAssert(() => Assert.Equal(40, fleet.Started.Count));
        Advance(TimeSpan.FromSeconds(3));
        AwaitAssert(() => Assert.Equal(10, fleet.Active));
        Assert.Equal(39, fleet.Stopped[0]); // the newest device goes first
        Advance(TimeSpan.FromSeconds(0.5));
        AwaitAssert(() => Assert.Equal([true], fleet.PauseChanges));
        Advance(TimeSpan.FromSeconds(2));
        AwaitAssert(() => Assert.Equal([true, false], fleet.PauseChanges));
        AwaitAssert(() => Assert.Equal(TimeSpan.FromMilliseconds(500), fleet.Intervals[0]));
    }

    [Fact]
    public void A_tick_that_comes_late_is_counted_as_the_generator_falling_behind()
    {
        var scenario = Parse("""
            name: late
            devices: {count: 10, idPrefix: d-, connectRate: 10}
            duration: 60s
            """);
        var (_, fleet, metrics) = StartRunner(scenario);
        Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, metrics.Counter(ScenarioRunner.LateTicks).Value);

        Clock.Advance(TimeSpan.FromSeconds(2)); // one jump: the next tick arrives 2 s after the previous one
        AwaitAssert(() => Assert.True(metrics.Counter(ScenarioRunner.LateTicks).Value >= 1));
        Assert.True(metrics.Gauge(ScenarioRunner.WorstTickLagMs).Value >= 1900);
        // The devices due during the jump were still started, each with the moment it was due.
        AwaitAssert(() => Assert.True(fleet.Started.Count >= 30 / 10));
    }

    [Fact]
    public void Abort_stops_the_fleet_and_reports_an_incomplete_run()
    {
        var scenario = Parse("""
            name: abort
            devices: {count: 10, idPrefix: d-, connectRate: 100}
            duration: 60s
            """);
        var (runner, fleet, _) = StartRunner(scenario);
        Advance(TimeSpan.FromSeconds(1));
        runner.Tell(new ScenarioRunner.Abort("cancelled"));
        var finished = ExpectMsg<ScenarioRunner.Finished>();
        Assert.False(finished.Completed);
        Assert.Contains("cancelled", finished.Outcome);
        Assert.True(fleet.StoppedAll);
    }

    [Fact]
    public void An_abort_that_arrives_before_start_ends_the_run_at_start_without_starting_a_device()
    {
        // Ctrl+C between the host starting and the runner's Start: the answer must still reach whoever starts the run.
        var scenario = Parse("""
            name: early-abort
            devices: {count: 10, idPrefix: d-, connectRate: 100}
            duration: 60s
            """);
        var fleet = new RecordingFleet();
        var runner = Sys.ActorOf(ScenarioRunner.Props(scenario, fleet, new FleetMetrics()));
        runner.Tell(new ScenarioRunner.Abort("cancelled"));
        runner.Tell(new ScenarioRunner.Start());
        var finished = ExpectMsg<ScenarioRunner.Finished>();
        Assert.False(finished.Completed);
        Assert.Contains("cancelled", finished.Outcome);
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(fleet.Started);
    }

    private sealed class HeldMethods : FleetSim.Scenarios.Service.IServiceActions
    {
        public System.Collections.Concurrent.ConcurrentQueue<TaskCompletionSource<int>> Calls { get; } = new();

        public Task<int> InvokeMethodAsync(string deviceId, string methodName, System.Text.Json.Nodes.JsonNode? payload, TimeSpan responseTimeout,
            TimeSpan connectTimeout, CancellationToken ct)
        {
            var call = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            Calls.Enqueue(call);
            return call.Task;
        }

        public Task PatchDesiredAsync(string deviceId, System.Text.Json.Nodes.JsonObject desired, CancellationToken ct) => Task.CompletedTask;

        public Task SendC2dAsync(string deviceId, byte[] body, IReadOnlyList<KeyValuePair<string, string?>> properties, CancellationToken ct) =>
            Task.CompletedTask;
    }

    private const string MethodsAtTheEnd = """
        name: drain
        deviceGroups:
          - {name: a, count: 2, idPattern: "a-{index}", methods: {ping: {status: 200}}}
        load:
          - ramp: {to: 2, over: 0.1s}
          - hold: {for: 1.9s}
        service:
          - invokeMethod: {name: ping, ratePerSecond: 2}
        """;

    [Fact]
    public void Service_calls_in_flight_at_the_end_are_answered_before_the_devices_stop()
    {
        // Stopping the devices under a method they are answering would count the generator's own stop as a hub error.
        var actions = new HeldMethods();
        var scenario = Parse(MethodsAtTheEnd);
        var fleet = new RecordingFleet();
        var metrics = new FleetMetrics();
        Runner = Sys.ActorOf(ScenarioRunner.Props(scenario, fleet, metrics, service: new ServiceLoad(scenario, actions, metrics)));
        Runner.Tell(new ScenarioRunner.Start());

        Advance(TimeSpan.FromSeconds(3));
        Assert.NotEmpty(actions.Calls);
        Assert.False(fleet.StoppedAll);
        ExpectNoMsg(TimeSpan.Zero);

        foreach (var call in actions.Calls)
            call.SetResult(200);
        AwaitAssert(() => Assert.Equal(actions.Calls.Count, metrics.Operation(ServiceLoad.MethodService).OkCount));
        Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(ExpectMsg<ScenarioRunner.Finished>().Completed);
        Assert.True(fleet.StoppedAll);
        Assert.Equal(0, metrics.Operation(ServiceLoad.MethodService).FailedCount);
    }

    [Fact]
    public void Calls_that_never_answer_hold_the_stop_no_longer_than_the_drain_limit()
    {
        var actions = new HeldMethods();
        var scenario = Parse(MethodsAtTheEnd);
        var fleet = new RecordingFleet();
        var metrics = new FleetMetrics();
        Runner = Sys.ActorOf(ScenarioRunner.Props(scenario, fleet, metrics, service: new ServiceLoad(scenario, actions, metrics)));
        Runner.Tell(new ScenarioRunner.Start());

        Advance(TimeSpan.FromSeconds(2) + ServiceLoad.MaxDrain - TimeSpan.FromSeconds(0.5));
        Assert.False(fleet.StoppedAll);
        Advance(TimeSpan.FromSeconds(1));
        ExpectMsg<ScenarioRunner.Finished>();
        Assert.True(fleet.StoppedAll);
    }

    [Fact]
    public void A_breached_threshold_aborts_the_run_when_asked_to()
    {
        var scenario = Parse("""
            name: breach
            devices: {count: 5, idPrefix: d-, connectRate: 100}
            duration: 60s
            thresholds:
              abortOnBreach: true
              connect: ["errorRate < 0.5"]
            """);
        var (_, fleet, metrics) = StartRunner(scenario);
        Advance(TimeSpan.FromSeconds(0.5));
        metrics.Operation(Operations.Connect).RecordFailure("unauthorized");
        Advance(TimeSpan.FromSeconds(1));
        var finished = ExpectMsg<ScenarioRunner.Finished>();
        Assert.False(finished.Completed);
        Assert.NotNull(finished.Breach);
        Assert.Contains("threshold", finished.Outcome);
    }

    private sealed class RecordingFleet : IFleetDriver
    {
        private readonly Lock _lock = new();

        public List<(int Group, int Index, DateTimeOffset DueAt)> Started { get; } = [];

        public List<int> Stopped { get; } = [];

        public List<bool> PauseChanges { get; } = [];

        public Dictionary<int, TimeSpan> Intervals { get; } = [];

        public bool StoppedAll { get; private set; }

        /// <summary>Runs as the devices stop (they disconnect, as real ones do).</summary>
        public Action? OnStopAll { get; set; }

        public int Active
        {
            get
            {
                lock (_lock)
                    return Started.Count - Stopped.Count;
            }
        }

        public void Start(int group, int index, DateTimeOffset dueAt)
        {
            lock (_lock)
                Started.Add((group, index, dueAt));
        }

        public void Stop(int group, int index)
        {
            lock (_lock)
                Stopped.Add(index);
        }

        public void SetTelemetryInterval(int group, TimeSpan interval)
        {
            lock (_lock)
                Intervals[group] = interval;
        }

        public void SetPaused(bool paused)
        {
            lock (_lock)
                PauseChanges.Add(paused);
        }

        public void StopAll(IActorRef whenStopped)
        {
            StoppedAll = true;
            OnStopAll?.Invoke();
            whenStopped.Tell(new ScenarioRunner.FleetStopped());
        }
    }
}
